"""Restore drills (writes): proof that backups restore. Every ``BACKUP_DRILL_DAYS`` days each
site's latest good backup is restored into a scratch folder (and, for WordPress, its dump
loaded into a scratch MariaDB database); every file's sha256 and every table's row count must
equal the backup's record. A drill that passes stamps the backup "verified restorable at T";
one that fails says why on the backup and alerts the team like a failed backup. Nothing of the
site is touched; the scratch folder and database are removed however the drill ends.
"""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from backups import alerts, database, jobs, restic
from backups.models import Backup, Drill
from backups.runs import (
    BackupFailed,
    checksums,
    finish,
    reason_of,
    repository_for,
    scratch,
    staged_in,
)
from controlpanel.enqueue import enqueue_on_commit
from hosting.models import Site

log = logging.getLogger(__name__)

DRILL_TASK = "backups.tasks.drill_run"
UNDER_WAY = (Drill.State.QUEUED, Drill.State.RUNNING)


def latest_backup(site: Site) -> Backup | None:
    return (
        Backup.objects.filter(site=site, state=Backup.State.SUCCEEDED)
        .exclude(snapshot_id="")
        .order_by("-created_at")
        .first()
    )


def drill_create(*, site: Site) -> Drill | None:
    """Queue a drill of the site's latest good backup (None when it has none, or one is
    already under way)."""
    backup = latest_backup(site)
    if backup is None or Drill.objects.filter(site=site, state__in=UNDER_WAY).exists():
        return None
    with transaction.atomic():
        drill = Drill.objects.create(site=site, backup=backup)
        drill.task_id = enqueue_on_commit(DRILL_TASK, str(drill.pk))
        Drill.objects.filter(pk=drill.pk).update(task_id=drill.task_id)
    return drill


def drills_due(*, now=None) -> list[Drill]:
    """Queue a drill for every site with a good backup whose last drill is older than
    ``BACKUP_DRILL_DAYS`` (or that never had one): the beat task's body."""
    now = now or timezone.now()
    since = now - timedelta(days=settings.BACKUP_DRILL_DAYS)
    good = Backup.objects.filter(site=OuterRef("pk"), state=Backup.State.SUCCEEDED)
    recent = Drill.objects.filter(site=OuterRef("pk"), created_at__gt=since)
    sites = Site.objects.filter(Exists(good)).exclude(Exists(recent)).select_related("team")
    return [drill for site in sites if (drill := drill_create(site=site)) is not None]


def drill_run(*, drill_id) -> Drill | None:
    """Run a queued drill (the task's body); it ends ``succeeded`` (and the backup is
    "verified restorable") or ``failed`` with the reason, and the team is alerted."""
    if not jobs.claim(Drill, drill_id):
        return None
    drill = Drill.objects.select_related("site__team", "backup").get(pk=drill_id)
    try:
        if drill.backup is None:
            raise BackupFailed("The backup to drill was deleted (retention removed it).")
        with jobs.heartbeats(Drill, drill_id):
            counts = _drill_steps(drill)
    except Exception as exc:  # every failure ends the drill failed, with its reason
        reason = reason_of(exc)
        log.warning("Restore drill %s of site %s failed: %s", drill_id, drill.site_id, reason)
        finish(Drill, drill_id, error=reason)
        if drill.backup_id:
            Backup.objects.filter(pk=drill.backup_id).update(drill_error=reason[:2000])
    else:
        finish(Drill, drill_id, **counts)
        Backup.objects.filter(pk=drill.backup_id).update(
            restorable_at=timezone.now(), drill_error=""
        )
    finally:
        _clean_up(drill)
    done = Drill.objects.select_related("site__team", "backup").get(pk=drill_id)
    alerts.drill_failed(drill=done)
    return done


def drills_reap(*, stale_after: float | None = None) -> list:
    """Fail drills whose worker died (their scratch folder and database are removed)."""

    def clean(pk):
        drill = Drill.objects.select_related("site__team", "backup").get(pk=pk)
        _clean_up(drill)
        alerts.drill_failed(drill=drill)

    return jobs.reap(
        Drill,
        what="the next drill will try again.",
        stale_after=stale_after,
        on_reaped=clean,
    )


def _scratch_database(drill: Drill) -> str:
    return f"wp_{drill.pk.hex[:24]}"


def _folder(drill: Drill) -> Path:
    return Path(settings.BACKUP_ROOT) / "scratch" / f"drill-{drill.pk}"


def _drill_steps(drill: Drill) -> dict:
    backup = drill.backup
    record = backup.record or {}
    if not record.get("files"):
        raise BackupFailed(
            "This backup has no record of its files' checksums to compare with; take a new backup."
        )
    repo = repository_for(drill.site.team)
    target = scratch(f"drill-{drill.pk}")
    restic.restore(repo.location, repo.password, backup.snapshot_id, str(target))
    found = checksums(staged_in(target, backup))
    missing = sorted(set(record["files"]) - set(found))
    if missing:
        raise BackupFailed(f"The restored backup lacks {len(missing)} file(s), e.g. {missing[0]}.")
    for path, item in sorted(record["files"].items()):
        if found[path]["sha256"] != item["sha256"]:
            raise BackupFailed(f"The restored {path} differs from the backup's checksum.")
    counts = {"files_checked": len(record["files"]), "tables_checked": 0, "rows_checked": 0}
    tables = record.get("tables")
    if tables is None:
        return counts
    dump = staged_in(target, backup) / "berth" / "database.sql"
    name = _scratch_database(drill)
    database.drop(name)
    database.create(name)
    database.load(name, dump)
    loaded = database.row_counts(name)
    for table, rows in sorted(tables.items()):
        if table not in loaded:
            raise BackupFailed(f"The restored database lacks the table {table}.")
        if loaded[table] != rows:
            raise BackupFailed(
                f"The restored table {table} holds {loaded[table]} rows; the backup recorded "
                f"{rows}."
            )
    counts.update(tables_checked=len(tables), rows_checked=sum(tables.values()))
    return counts


def _clean_up(drill: Drill) -> None:
    shutil.rmtree(_folder(drill), ignore_errors=True)
    if drill.backup_id and drill.backup and drill.backup.has_database:
        try:
            database.drop(_scratch_database(drill))
        except Exception:
            log.warning("Could not drop drill %s's scratch database", drill.pk, exc_info=True)
