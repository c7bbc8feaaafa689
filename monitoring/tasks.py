"""Celery entry points of monitoring: checks and pruning on the beat schedule."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib.auth import get_user_model

from controlpanel.celery import app
from monitoring import services
from teams.permissions import is_operator


@app.task(name="monitoring.run_checks", ignore_result=True, soft_time_limit=60, time_limit=90)
def run_checks() -> int:
    """Check every service once (the status page's data)."""
    return len(services.checks_run())


@app.task(name="monitoring.prune", ignore_result=True)
def prune() -> dict:
    """Drop results and rollups past their retention."""
    return services.rollups_prune()


@app.task(name="monitoring.restart_process", ignore_result=True)
def restart_process(name: str, actor_id: int | None = None) -> None:
    """Restart a program from a worker (used for the web server, which cannot restart the
    process answering the request), if the operator who asked still is one."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    if actor_id and not is_operator(actor):
        return  # whoever asked is no longer an operator (asked now: it may have changed)
    with contextlib.suppress(services.RestartFailed):  # recorded in the audit log
        services.process_restart(name=name, actor=actor)


@app.task(name="monitoring.sample_site_processes", ignore_result=True, soft_time_limit=60)
def sample_site_processes() -> int:
    """Read the CPU time and memory of each site's supervised processes (PHP pools)."""
    return services.site_processes_sample()


app.conf.beat_schedule.update(
    {
        "monitoring-run-checks": {
            "task": "monitoring.run_checks",
            "schedule": settings.MONITORING_CHECK_INTERVAL,
            "options": {"expires": settings.MONITORING_CHECK_INTERVAL},
        },
        "monitoring-prune": {"task": "monitoring.prune", "schedule": 3600},
        "monitoring-sample-site-processes": {
            "task": "monitoring.sample_site_processes",
            "schedule": settings.MONITORING_HEARTBEAT_INTERVAL,
            "options": {"expires": settings.MONITORING_HEARTBEAT_INTERVAL},
        },
    }
)
