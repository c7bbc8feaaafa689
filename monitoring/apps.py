from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring and status page"

    def ready(self):
        from monitoring import signals  # noqa: F401 - worker heartbeats start with each worker
