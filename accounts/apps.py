from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # Not "Accounts": allauth's email addresses already have a section of that name.
    verbose_name = "Users and access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import signals  # noqa: F401
        from accounts.models import AccessToken, User
        from controlpanel import access

        access.watch(User, AccessToken)
