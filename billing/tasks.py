"""Celery entry points of billing: thin, idempotent, run by beat."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from billing import payments, purchases, services
from controlpanel.celery import app

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def enforce_subscriptions() -> int:
    """Suspend teams whose payment is overdue past the grace period."""
    return len(services.subscriptions_enforce())


@shared_task(ignore_result=True)
def enforce_usage() -> int:
    """Email owners nearing or over build minutes and bandwidth; apply bandwidth overage."""
    return len(services.usage_enforce())


@shared_task(ignore_result=True)
def reconcile_stripe() -> list[str]:
    """Correct what dropped or failed webhooks left different from Stripe; log each fix."""
    if not settings.STRIPE_SECRET_KEY:
        return []
    corrections = payments.stripe_reconcile()
    for line in corrections:
        log.warning("Stripe reconciliation corrected %s", line)
    return corrections


app.conf.beat_schedule["billing-enforce-subscriptions"] = {
    "task": "billing.tasks.enforce_subscriptions",
    "schedule": 3600.0,
}
app.conf.beat_schedule["billing-enforce-usage"] = {
    "task": "billing.tasks.enforce_usage",
    "schedule": 3600.0,
}
app.conf.beat_schedule["billing-reconcile-stripe"] = {
    "task": "billing.tasks.reconcile_stripe",
    "schedule": 3600.0,
}


@shared_task(ignore_result=True)
def maintain_purchases() -> dict:
    """Deliver paid orders not yet done; settle Checkout sessions a dropped webhook left open."""
    return purchases.purchases_maintain()


app.conf.beat_schedule["billing-maintain-purchases"] = {
    "task": "billing.tasks.maintain_purchases",
    "schedule": 3600.0,
}
