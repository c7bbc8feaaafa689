"""The Celery app: tasks autodiscovered from every app's tasks.py, JSON only, late acks.

A worker keeps reconnecting to a broker that went away (``broker_connection_retry`` and
``broker_connection_max_retries=None``) instead of exiting; see controlpanel/broker.py.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlpanel.settings")

app = Celery("berth")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    result_expires=86400,
    broker_connection_retry_on_startup=True,
    broker_connection_retry=True,
    broker_connection_max_retries=None,
    task_soft_time_limit=3600,
    task_time_limit=3660,
    beat_schedule={},
)
if str(app.conf.broker_url).startswith(("redis://", "rediss://")):
    # kombu's Redis transport with a fix that lets workers ride out a broker restart.
    app.conf.broker_transport = "controlpanel.broker:Transport"
app.autodiscover_tasks()
