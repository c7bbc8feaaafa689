from django.apps import AppConfig


class WordpressConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "wordpress"
    verbose_name = "WordPress"

    def ready(self):
        from wordpress import signals  # noqa: F401  (a deleted site's pool, database and files)
