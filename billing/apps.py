from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_plans(sender, **kwargs):
    from billing.services import plans_seed

    plans_seed()


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from billing import purchases  # noqa: F401  (listens to invoices paid and voided)

        post_migrate.connect(_seed_plans, sender=self)
