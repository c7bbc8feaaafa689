"""Celery entry points of the build pipeline: thin, idempotent, taking primary keys.

``build_deployment`` acknowledges late and is re-delivered if its worker dies; the claim
(``filter(pk, status=queued).update(...) == 1``) makes a duplicate delivery a no-op. A build
whose worker died mid-way is failed by ``reap_stale_builds`` (every BUILD_REAPER_INTERVAL),
which also sends again the task of a queued deployment that no worker holds.
"""

from __future__ import annotations

import os
import socket

from celery import shared_task
from django.conf import settings

from controlpanel.celery import app
from deployments import builds, runner, uploads
from deployments.github import GitHubError

QUEUE_WAIT = 3  # seconds between looks while the owner's concurrent build limit is reached


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    ignore_result=True,
    soft_time_limit=settings.BUILD_TIMEOUT + 120,
    time_limit=settings.BUILD_TIMEOUT + 180,
)
def build_deployment(self, deployment_id: str) -> str:
    """Build a queued deployment once; wait (re-queued) while the owner is at their limit."""
    outcome = builds.build_claim(
        deployment_id=deployment_id, worker=f"{socket.gethostname()}:{os.getpid()}"
    )
    if outcome == "wait":
        raise self.retry(countdown=QUEUE_WAIT)
    if outcome != "claimed":
        return outcome
    return runner.run_build(deployment_id).status


@shared_task(ignore_result=True)
def reap_stale_builds() -> int:
    """Fail builds whose worker stopped sending heartbeats; send again the task of queued
    deployments that no worker holds."""
    return len(builds.builds_reap()) + len(builds.builds_requeue())


app.conf.beat_schedule["deployments-reap-stale-builds"] = {
    "task": "deployments.tasks.reap_stale_builds",
    "schedule": float(settings.BUILD_REAPER_INTERVAL),
}


@shared_task(ignore_result=True)
def previews_expire() -> int:
    from deployments.previews import pull_previews_reconcile
    from deployments.services import previews_expire as expire
    from deployments.services import previews_reconcile

    return expire() + previews_reconcile() + pull_previews_reconcile()


@shared_task(
    ignore_result=True,
    autoretry_for=(GitHubError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=6,
)
def preview_status_report(deployment_id: str) -> str:
    """A pull request preview's state as a commit status on GitHub (retried while GitHub is
    unreachable)."""
    from deployments.previews import preview_status_report as report

    return report(deployment_id=deployment_id)


app.conf.beat_schedule["deployments-previews-expire"] = {
    "task": "deployments.tasks.previews_expire",
    "schedule": 3600.0,
}


@shared_task(ignore_result=True)
def uploads_abandon() -> int:
    """Fail folder deploys whose files never all came (a client that stopped half-way)."""
    return uploads.uploads_abandon()


app.conf.beat_schedule["deployments-uploads-abandon"] = {
    "task": "deployments.tasks.uploads_abandon",
    "schedule": 3600.0,
}
