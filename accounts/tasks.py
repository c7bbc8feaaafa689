"""Periodic upkeep of accounts: forget ended browser sessions and old notifications."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from controlpanel.celery import app

NOTIFICATION_DAYS = 30


@shared_task(name="accounts.prune", ignore_result=True)
def prune_task() -> dict:
    """Delete browser sessions whose Django session ended and notifications over 30 days old."""
    from accounts.models import Notification
    from accounts.services import stale_browser_sessions_prune

    cutoff = timezone.now() - timedelta(days=NOTIFICATION_DAYS)
    notifications, _ = Notification.objects.filter(created_at__lt=cutoff).delete()
    return {"sessions": stale_browser_sessions_prune(), "notifications": notifications}


app.conf.beat_schedule.update({"accounts-prune": {"task": "accounts.prune", "schedule": 3600}})
