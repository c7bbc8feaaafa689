"""Deleting backups, and what a team's repository takes: a deleted backup's row goes at once
and its snapshot is forgotten (and the repository pruned) by a task; the repository's size is
measured with ``restic stats`` after every backup and prune, for the Backups tab and billing."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backups import restic
from backups.models import Backup, Repository, Restore
from controlpanel.enqueue import enqueue_on_commit
from teams.audit import audit_record

log = logging.getLogger(__name__)

FORGET_TASK = "backups.tasks.snapshot_forget"


def backup_delete(*, backup: Backup, user=None) -> None:
    """Delete a finished backup: its row at once, its snapshot forgotten and the repository
    pruned by a task after commit (restic may wait there for a running backup's lock).
    ValidationError while it runs or a restore of it is under way."""
    if backup.state not in Backup.FINAL_STATES:
        raise ValidationError("A backup that is still running cannot be deleted.", code="busy")
    restoring = Restore.objects.filter(
        backup=backup, state__in=[Restore.State.QUEUED, Restore.State.RUNNING]
    ).exists()
    if restoring:
        raise ValidationError("This backup is being restored; delete it afterwards.", code="busy")
    site = backup.site
    with transaction.atomic():
        if backup.snapshot_id:
            enqueue_on_commit(FORGET_TASK, str(site.team_id), backup.snapshot_id)
        if user is not None:
            audit_record(
                team=site.team,
                actor=user,
                action="backup.delete",
                obj=site,
                details={
                    "backup": str(backup.pk),
                    "snapshot": backup.snapshot_id,
                    "taken": backup.created_at.isoformat(),
                },
            )
        backup.delete()


def snapshot_forget(*, team_id, snapshot_id: str) -> None:
    """Forget a deleted backup's snapshot and prune what only it used (the task's body; safe to
    run twice: a snapshot already gone is not an error). ResticError is raised for a retry."""
    repo = Repository.objects.filter(team_id=team_id).first()
    if repo is None or repo.initialized_at is None:
        return
    if Backup.objects.filter(site__team_id=team_id, snapshot_id=snapshot_id).exists():
        return  # a row still stands on it
    if restic.snapshots(repo.location, repo.password, snapshot_id):
        restic.forget(repo.location, repo.password, snapshot_id, prune=True)
    repository_measure(team=repo.team)


def repository_measure(*, team) -> int | None:
    """Record the bytes the team's repository takes (``restic stats``); None when it could
    not be measured (logged; the last figure stays)."""
    repo = Repository.objects.filter(team=team).first()
    if repo is None or repo.initialized_at is None:
        return None
    try:
        stored = restic.stored_bytes(repo.location, repo.password)
    except restic.ResticError as exc:
        log.warning("Measuring team %s's backup repository failed: %s", team.pk, exc)
        return None
    Repository.objects.filter(pk=repo.pk).update(stored_bytes=stored, measured_at=timezone.now())
    return stored
