from django.apps import AppConfig


class TeamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "teams"
    verbose_name = "Teams"

    def ready(self) -> None:
        from controlpanel import access
        from teams import signals
        from teams.models import Membership, Team

        signals.connect()
        access.watch(Team, Membership)
