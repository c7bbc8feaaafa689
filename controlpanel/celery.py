"""The Celery app: tasks autodiscovered from every app's tasks.py, JSON only, late acks.

A worker keeps reconnecting to a broker that went away (``broker_connection_retry`` and
``broker_connection_max_retries=None``) instead of exiting; see controlpanel/broker.py.

``celery worker --beat-thread`` runs beat in a thread of the worker. Celery's own ``--beat``
forks it as a second process holding its own copy of Django (~100 MiB); a thread costs
nothing at rest. With ``--pool=threads`` the worker is then one process (the embedded default
and docker-compose.yml run it so; docs/performance.md, "Idle memory and restart").

``celery worker --start-after URL ...`` waits (at most 30 s) until URL answers before the worker
loads Django and the tasks: ``manage.py serve`` gives it the web server's ``/health``, so on a
busy machine the panel's own start-up does not share the CPU with the worker's.
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request

import click
from celery import Celery, bootsteps
from celery.signals import user_preload_options

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


class ThreadedBeat(bootsteps.StartStopStep):
    """Beat in a thread of the worker (``--beat-thread``), sharing its schedule file option
    (``-s``); stopped with the worker."""

    label = "Beat (thread)"
    conditional = True
    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker, beat_thread=False, **kwargs):
        self.enabled = bool(beat_thread)
        super().__init__(worker, **kwargs)

    def create(self, worker):
        from celery.beat import EmbeddedService

        return EmbeddedService(
            worker.app,
            schedule_filename=worker.schedule_filename,
            scheduler_cls=worker.scheduler,
            thread=True,
        )


app.user_options["worker"].add(
    click.Option(
        ["--beat-thread"],
        is_flag=True,
        default=False,
        help="Run beat in a thread of this worker (instead of --beat's separate process).",
    )
)
app.steps["worker"].add(ThreadedBeat)


START_AFTER_PATIENCE = 30  # seconds: a web server that never answers does not hold the worker


app.user_options["preload"].add(
    click.Option(
        ["--start-after"],
        default=None,
        help="A URL: wait until it answers (at most 30 s) before starting.",
    )
)


@user_preload_options.connect
def _start_after(sender=None, app=None, options=None, **kwargs):
    url = (options or {}).get("start_after")
    if not url:
        return
    deadline = time.monotonic() + START_AFTER_PATIENCE
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a URL serve gives
                return
        except urllib.error.HTTPError:  # it answered, whatever it said
            return
        except OSError:
            time.sleep(0.2)
