"""Celery entry points of backups: thin, taking primary keys, safe to run twice (each job is
claimed from its row; a job whose worker died is failed by ``jobs_reap``)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from backups import restic, services
from controlpanel.celery import app


@shared_task(name="backups.tasks.backup_run", acks_late=True, reject_on_worker_lost=True)
def backup_run(backup_id: str) -> None:
    """Run a backup (its row is the job record)."""
    services.backup_run(backup_id=backup_id)


@shared_task(name="backups.tasks.restore_run", acks_late=True, reject_on_worker_lost=True)
def restore_run(restore_id: str) -> None:
    """Restore a backup into a site (its row is the job record)."""
    services.restore_run(restore_id=restore_id)


@shared_task(name="backups.tasks.drill_run", acks_late=True, reject_on_worker_lost=True)
def drill_run(drill_id: str) -> None:
    """Run a restore drill (its row is the job record)."""
    services.drill_run(drill_id=drill_id)


@shared_task(
    name="backups.tasks.snapshot_forget",
    acks_late=True,
    autoretry_for=(restic.ResticError,),
    retry_backoff=30,
    max_retries=6,
)
def snapshot_forget(team_id: str, snapshot_id: str) -> None:
    """Forget a deleted backup's snapshot and prune the repository (retried while restic
    cannot)."""
    services.snapshot_forget(team_id=team_id, snapshot_id=snapshot_id)


@shared_task(name="backups.tasks.schedules_run")
def schedules_run() -> int:
    """Queue the scheduled backups whose time has come."""
    return len(services.schedules_run())


@shared_task(name="backups.tasks.drills_due", ignore_result=True)
def drills_due() -> int:
    """Queue the restore drills whose time has come."""
    return len(services.drills_due())


@shared_task(name="backups.tasks.jobs_reap", ignore_result=True)
def jobs_reap() -> int:
    """Fail backups, restores and drills whose worker died."""
    return services.jobs_reap()


app.conf.beat_schedule["backups-schedules"] = {
    "task": "backups.tasks.schedules_run",
    "schedule": 300,
}
app.conf.beat_schedule["backups-drills"] = {
    "task": "backups.tasks.drills_due",
    "schedule": 3600,
}
app.conf.beat_schedule["backups-reap"] = {
    "task": "backups.tasks.jobs_reap",
    "schedule": max(10.0, settings.BACKUP_HEARTBEAT_TIMEOUT / 2),
}
