from django.apps import AppConfig


class HostingConfig(AppConfig):
    name = "hosting"
    verbose_name = "Hosting"
    default_auto_field = "django.db.models.BigAutoField"
