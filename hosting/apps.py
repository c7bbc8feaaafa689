from django.apps import AppConfig


class HostingConfig(AppConfig):
    name = "hosting"
    verbose_name = "Hosting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hosting.serving import signals

        signals.connect()

    def wrap_http_application(self, app):
        """Site hostnames go to the embedded site server; everything else to ``app``."""
        from hosting.serving.app import HostRouter

        return HostRouter(app)
