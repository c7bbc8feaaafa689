"""Backups and restores of sites (writes). Each run is a row and a Celery job; any error —
restic's exit code, a missing file, a failed database dump — ends it ``failed`` with the reason,
never ``succeeded``. A backup succeeds only once ``restic check`` passed and the snapshot was
seen to hold every staged file at its size.

What a site's snapshot holds (under one staging folder, ``<BACKUP_ROOT>/scratch/<backup-id>``):
``files/`` (the site's working files; for WordPress, its ``wp-content``), ``berth/manifest.json``
(the live deployment's manifest), ``berth/editor.json`` (the editor's page documents) and, for
WordPress, ``berth/database.sql`` (``mysqldump --single-transaction``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backups import restic
from backups.models import Backup, Repository, Restore, Schedule
from backups.storage import backup_delete, repository_measure, snapshot_forget  # noqa: F401
from billing.limits import plan_of
from controlpanel.enqueue import enqueue_on_commit
from deployments.models import ManifestEntry
from editor.models import Page
from hosting.files.backends import tree_for
from hosting.files.quota import site_storage_recount
from hosting.models import Site
from teams.audit import audit_record
from wordpress import mariadb
from wordpress.layout import layout_for

log = logging.getLogger(__name__)

BACKUP_TASK = "backups.tasks.backup_run"
RESTORE_TASK = "backups.tasks.restore_run"
CHECK_SUBSET = "1/10"


class BackupFailed(Exception):
    """A step of a backup or restore failed (the message is shown as the reason)."""


def _repository_location(team) -> str:
    if settings.S3_BUCKET:
        endpoint = (settings.S3_ENDPOINT_URL or "https://s3.amazonaws.com").rstrip("/")
        return f"s3:{endpoint}/{settings.S3_BUCKET}/backups/{team.pk}"
    return str(Path(settings.BACKUP_ROOT) / "repositories" / str(team.pk))


def repository_for(team) -> Repository:
    """The team's repository row (made with a generated password on first use)."""
    repo, _ = Repository.objects.get_or_create(
        team=team,
        defaults={"location": _repository_location(team), "password": secrets.token_urlsafe(32)},
    )
    return repo


def _repository_ready(repo: Repository) -> None:
    if repo.initialized_at is not None:
        return
    if not repo.location.startswith("s3:"):
        Path(repo.location).parent.mkdir(parents=True, exist_ok=True)
    restic.init(repo.location, repo.password)
    Repository.objects.filter(pk=repo.pk).update(initialized_at=timezone.now())


# --- Backups --------------------------------------------------------------------------------


def backup_create(*, site: Site, user=None, type: str = Backup.Type.MANUAL) -> Backup:
    """Queue a backup of ``site`` (the row is the job record)."""
    with transaction.atomic():
        backup = Backup.objects.create(site=site, type=type, created_by=user)
        backup.task_id = enqueue_on_commit(BACKUP_TASK, str(backup.pk))
        Backup.objects.filter(pk=backup.pk).update(task_id=backup.task_id)
        if user is not None:
            audit_record(
                team=site.team,
                actor=user,
                action="backup.create",
                obj=site,
                details={"backup": str(backup.pk)},
            )
    return backup


def _finish(model, pk, *, error: str = "", **fields) -> None:
    state = model.State.FAILED if error else model.State.SUCCEEDED
    model.objects.filter(pk=pk).update(
        state=state, reason=error[:2000], finished_at=timezone.now(), **fields
    )


def backup_run(*, backup_id) -> Backup | None:
    """Run a queued backup (the task's body). Claims it (queued, or running after a worker
    died) and ends it ``succeeded`` or ``failed`` with the reason."""
    claimed = Backup.objects.filter(
        pk=backup_id, state__in=[Backup.State.QUEUED, Backup.State.RUNNING]
    ).update(state=Backup.State.RUNNING, started_at=timezone.now(), reason="")
    if not claimed:
        return None
    backup = Backup.objects.select_related("site__team").get(pk=backup_id)
    try:
        fields = _backup_steps(backup)
    except Exception as exc:  # every failure ends the run failed, with its reason
        reason = _reason(exc)
        log.warning("Backup %s of site %s failed: %s", backup_id, backup.site_id, reason)
        _finish(Backup, backup_id, error=reason)
    else:
        _finish(Backup, backup_id, **fields)
        retention_apply(site=backup.site)
        repository_measure(team=backup.site.team)
    return Backup.objects.get(pk=backup_id)


def back_up_before_wordpress_update(site: Site, *, by=None) -> Backup:
    """Back a WordPress site up, here and now, before its core, plugins or themes are updated;
    the succeeded (checked) backup, or ``BackupFailed`` with the reason — the update must not
    go ahead then. ``by`` is the user who asked for the update (None: an automatic one)."""
    if site.kind != Site.Kind.WORDPRESS:
        raise BackupFailed("Only a WordPress site has WordPress updates to back up before.")
    backup = Backup.objects.create(
        site=site, type=Backup.Type.BEFORE_WORDPRESS_UPDATE, created_by=by
    )
    audit_record(
        team=site.team,
        actor=by,
        action="backup.create",
        obj=site,
        details={"backup": str(backup.pk), "type": backup.type},
    )
    done = backup_run(backup_id=backup.pk) or Backup.objects.get(pk=backup.pk)
    if done.state != Backup.State.SUCCEEDED:
        raise BackupFailed(f"The backup before the update failed: {done.reason}")
    return done


def retention_apply(*, site: Site) -> int:
    """Forget the site's snapshots older than the plan's backup retention (counted back from
    the newest) and delete their rows; how many went. A failure is logged and retried at the
    next backup: the snapshots stay, so nothing is lost."""
    days = plan_of(site.team).backup_retention_days
    if days is None:
        return 0
    repo = repository_for(site.team)
    tag = f"site:{site.pk}"
    try:
        restic.forget_older(repo.location, repo.password, tag=tag, days=days)
        kept = restic.snapshot_ids(repo.location, repo.password, tag=tag)
    except restic.ResticError as exc:
        log.warning("Retention of site %s's backups failed: %s", site.pk, exc)
        return 0
    gone = Backup.objects.filter(site=site, state=Backup.State.SUCCEEDED).exclude(
        snapshot_id__in=kept
    )
    count = gone.count()
    gone.delete()
    return count


def _reason(exc: Exception) -> str:
    reason = str(exc) or type(exc).__name__
    if not isinstance(exc, (restic.ResticError, BackupFailed, mariadb.MariaDBError, OSError)):
        log.exception("Unexpected backup error")
        reason = f"Unexpected error: {reason}"
    return reason


def _scratch(name: str) -> Path:
    path = Path(settings.BACKUP_ROOT) / "scratch" / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    path.chmod(0o700)
    return path


def _backup_steps(backup: Backup) -> dict:
    site = backup.site
    repo = repository_for(site.team)
    _repository_ready(repo)
    stage = _scratch(str(backup.pk))
    try:
        expected, has_database = _stage(site, stage)
        summary = restic.backup(
            repo.location,
            repo.password,
            str(stage),
            tags=[f"site:{site.pk}", f"backup:{backup.pk}"],
        )
        snapshot_id = summary["snapshot_id"]
        restic.check(repo.location, repo.password, read_data_subset=CHECK_SUBSET)
        _verify_snapshot(repo, snapshot_id, stage, expected)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {
        "snapshot_id": snapshot_id,
        "files": len(expected),
        "size": sum(expected.values()),
        "added_bytes": int(summary.get("data_added") or 0),
        "has_database": has_database,
        "verified_at": timezone.now(),
    }


def _stage(site: Site, stage: Path) -> tuple[dict[str, int], bool]:
    """Write what the snapshot must hold into ``stage``; the relative paths and sizes."""
    files = stage / "files"
    files.mkdir()
    if site.kind == Site.Kind.WORDPRESS:
        content = layout_for(site.pk).wp_content
        if not content.is_dir():
            raise BackupFailed(f"The WordPress site's files are missing ({content.name}).")
        shutil.copytree(content, files, dirs_exist_ok=True, symlinks=True)
    else:
        tree = tree_for(site.pk)
        for entry in tree.walk():
            target = files / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with tree.open(entry.path) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    meta = stage / "berth"
    meta.mkdir()
    (meta / "manifest.json").write_text(json.dumps(_manifest(site), indent=1))
    (meta / "editor.json").write_text(json.dumps(_editor_documents(site), indent=1))
    has_database = site.kind == Site.Kind.WORDPRESS
    if has_database:
        _database_dump(site, meta / "database.sql")
    expected = {}
    for path in stage.rglob("*"):
        if path.is_file() and not path.is_symlink():
            expected[path.relative_to(stage).as_posix()] = path.stat().st_size
    return expected, has_database


def _manifest(site: Site) -> dict:
    deployment = site.live_deployment
    if deployment is None or deployment.manifest_id is None:
        return {"deployment": None, "files": []}
    entries = ManifestEntry.objects.filter(manifest_id=deployment.manifest_id).order_by("path")
    return {
        "deployment": str(deployment.pk),
        "manifest": deployment.manifest.digest,
        "files": [
            {"path": e.path, "digest": e.blob_id, "size": e.size, "contentType": e.content_type}
            for e in entries
        ],
    }


def _editor_documents(site: Site) -> list[dict]:
    return [
        {
            "id": str(p.pk),
            "slug": p.slug,
            "title": p.title,
            "revision": p.revision,
            "document": p.document,
        }
        for p in Page.objects.filter(site=site).order_by("position", "slug")
    ]


def _mysql_command(binary: str) -> tuple[list[str], dict]:
    server = mariadb.server()
    if server is None:
        raise BackupFailed("MARIADB_URL is not set: the WordPress database cannot be reached.")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MYSQL_PWD": server.password}
    command = [binary, f"--host={server.host}", f"--port={server.port}", f"--user={server.user}"]
    return command, env


def _mysql(command: list[str], env: dict, *, stdin=None, stdout=None, what: str) -> None:
    try:
        done = subprocess.run(
            command,
            env=env,
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=settings.BACKUP_TIMEOUT,
            check=False,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        raise BackupFailed(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()[-500:] or "no message"
        raise BackupFailed(f"{what} failed (exit {done.returncode}): {message}")


def _database_name(site: Site) -> str:
    name = site.wordpress.db_name
    if not mariadb.NAME.match(name):
        raise BackupFailed(f"Refusing the database name {name!r}.")
    return name


def _database_dump(site: Site, target: Path) -> None:
    command, env = _mysql_command("mysqldump")
    command += ["--single-transaction", "--routines", "--triggers", "--", _database_name(site)]
    with open(target, "wb") as out:
        _mysql(command, env, stdout=out, what="The database dump")
    if target.stat().st_size == 0:
        raise BackupFailed("The database dump is empty.")


def _verify_snapshot(repo: Repository, snapshot_id: str, stage: Path, expected: dict) -> None:
    """The snapshot holds every staged file at its size (restic's listing, not our staging)."""
    prefix = str(stage).rstrip("/") + "/"
    found = {
        node["path"][len(prefix) :]: node.get("size", 0)
        for node in restic.ls(repo.location, repo.password, snapshot_id)
        if node.get("type") == "file" and node.get("path", "").startswith(prefix)
    }
    missing = sorted(p for p in expected if p not in found)
    if missing:
        raise BackupFailed(f"The snapshot lacks {len(missing)} file(s), e.g. {missing[0]}.")
    wrong = sorted(p for p, size in expected.items() if found[p] != size)
    if wrong:
        raise BackupFailed(f"The snapshot holds {wrong[0]} at the wrong size.")


# --- Restores -------------------------------------------------------------------------------


def restore_create(*, backup: Backup, user=None) -> Restore:
    """Queue restoring ``backup`` into its site (a succeeded backup only)."""
    if backup.state != Backup.State.SUCCEEDED:
        raise ValidationError(
            "Only a backup that succeeded can be restored.", code="not_restorable"
        )
    busy = Restore.objects.filter(
        backup__site=backup.site, state__in=[Restore.State.QUEUED, Restore.State.RUNNING]
    ).exists()
    if busy:
        raise ValidationError("A restore of this site is already under way.", code="busy")
    with transaction.atomic():
        job = Restore.objects.create(backup=backup, created_by=user)
        job.task_id = enqueue_on_commit(RESTORE_TASK, str(job.pk))
        Restore.objects.filter(pk=job.pk).update(task_id=job.task_id)
        if user is not None:
            audit_record(
                team=backup.site.team,
                actor=user,
                action="backup.restore",
                obj=backup.site,
                details={"backup": str(backup.pk)},
            )
    return job


def restore_run(*, restore_id) -> Restore | None:
    """Restore (the task's body): a before-restore backup first, then the snapshot's files,
    editor documents and database. Any failure ends it ``failed`` with the reason."""
    claimed = Restore.objects.filter(
        pk=restore_id, state__in=[Restore.State.QUEUED, Restore.State.RUNNING]
    ).update(state=Restore.State.RUNNING, started_at=timezone.now(), reason="")
    if not claimed:
        return None
    job = Restore.objects.select_related("backup__site__team").get(pk=restore_id)
    try:
        _restore_steps(job)
    except Exception as exc:  # every failure ends the restore failed, with its reason
        _finish(Restore, restore_id, error=_reason(exc))
    else:
        _finish(Restore, restore_id)
    return Restore.objects.get(pk=restore_id)


def _restore_steps(job: Restore) -> None:
    backup, site = job.backup, job.backup.site
    safety = job.safety_backup
    if safety is None:
        safety = Backup.objects.create(site=site, type=Backup.Type.BEFORE_RESTORE)
        Restore.objects.filter(pk=job.pk).update(safety_backup=safety)
    safety = backup_run(backup_id=safety.pk) or Backup.objects.get(pk=safety.pk)
    if safety.state != Backup.State.SUCCEEDED:
        raise BackupFailed(
            f"The backup before restoring failed, nothing was changed: {safety.reason}"
        )
    repo = repository_for(site.team)
    target = _scratch(f"restore-{job.pk}")
    try:
        restic.restore(repo.location, repo.password, backup.snapshot_id, str(target))
        source = target / (Path(settings.BACKUP_ROOT) / "scratch" / str(backup.pk)).relative_to("/")
        if not (source / "files").is_dir() or not (source / "berth" / "manifest.json").is_file():
            raise BackupFailed("The restored snapshot does not hold the site's files.")
        if backup.has_database:
            dump = source / "berth" / "database.sql"
            if not dump.is_file():
                raise BackupFailed("The restored snapshot does not hold the database dump.")
            _database_load(site, dump)
        _files_put_back(site, source / "files")
        _editor_put_back(site, source / "berth" / "editor.json")
    finally:
        shutil.rmtree(target, ignore_errors=True)


def _files_put_back(site: Site, source: Path) -> None:
    if site.kind == Site.Kind.WORDPRESS:
        content = layout_for(site.pk).wp_content
        staged = content.with_name("wp-content.restoring")
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(source, staged, symlinks=True)
        old = content.with_name("wp-content.old")
        shutil.rmtree(old, ignore_errors=True)
        if content.exists():
            content.rename(old)
        staged.rename(content)
        shutil.rmtree(old, ignore_errors=True)
        return
    tree = tree_for(site.pk)
    tree.remove_all()
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as stream:
                tree.save(path.relative_to(source).as_posix(), stream)
    site_storage_recount(site=site)


def _editor_put_back(site: Site, documents: Path) -> None:
    for page in json.loads(documents.read_text()):
        Page.objects.filter(site=site, pk=page["id"]).update(
            document=page["document"], updated_at=timezone.now()
        )


def _database_load(site: Site, dump: Path) -> None:
    command, env = _mysql_command("mysql")
    command += ["--", _database_name(site)]
    with open(dump, "rb") as stream:
        _mysql(command, env, stdin=stream, what="Loading the database")


# --- Schedules ------------------------------------------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def next_occurrence(*, frequency: str, hour: int, weekday: int, after: datetime) -> datetime:
    """The first time strictly after ``after`` at ``hour``:00 UTC (on ``weekday`` if weekly)."""
    after = after.astimezone(UTC)
    at = after.replace(hour=hour, minute=0, second=0, microsecond=0)
    if frequency == Schedule.Frequency.WEEKLY:
        at += timedelta(days=(weekday - at.weekday()) % 7)
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    while at <= after:
        at += step
    return at


def schedule_set(*, site: Site, frequency: str, hour: int = 3, weekday: int = 0, user=None):
    """Back ``site`` up daily or weekly at ``hour`` UTC; ``frequency`` "off" removes the
    schedule. The schedule, or None."""
    if frequency == "off":
        Schedule.objects.filter(site=site).delete()
        return None
    if frequency not in Schedule.Frequency.values:
        raise ValidationError({"frequency": ["Choose daily, weekly or off."]})
    if not 0 <= int(hour) <= 23:
        raise ValidationError({"hour": ["The hour is 0 to 23 (UTC)."]})
    if not 0 <= int(weekday) <= 6:
        raise ValidationError({"weekday": ["Choose a day of the week."]})
    next_run = next_occurrence(
        frequency=frequency, hour=int(hour), weekday=int(weekday), after=timezone.now()
    )
    schedule, _ = Schedule.objects.update_or_create(
        site=site,
        defaults={
            "frequency": frequency,
            "hour": int(hour),
            "weekday": int(weekday),
            "next_run_at": next_run,
        },
    )
    if user is not None:
        audit_record(
            team=site.team,
            actor=user,
            action="backup.schedule",
            obj=site,
            details={"frequency": frequency, "hour": int(hour), "weekday": int(weekday)},
        )
    return schedule


def schedules_run(*, now: datetime | None = None) -> list[Backup]:
    """Queue a scheduled backup of every site whose time has come (the beat task's body), and
    move each schedule to its next time. Two beats at once never queue the same one twice."""
    now = now or timezone.now()
    queued = []
    with transaction.atomic():
        due = (
            Schedule.objects.select_for_update(skip_locked=True)
            .select_related("site__team")
            .filter(next_run_at__lte=now)
        )
        for schedule in due:
            queued.append(backup_create(site=schedule.site, type=Backup.Type.SCHEDULED))
            schedule.next_run_at = next_occurrence(
                frequency=schedule.frequency,
                hour=schedule.hour,
                weekday=schedule.weekday,
                after=now,
            )
            schedule.save(update_fields=["next_run_at"])
    return queued
