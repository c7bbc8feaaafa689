"""Backups of sites (writes). Each run is a row and a Celery job; any error — restic's exit
code, a missing file, a failed database dump — ends it ``failed`` with the reason, never
``succeeded``. A backup succeeds only once ``restic check`` passed and the snapshot was seen to
hold every staged file at its size. While it runs, its row holds its phase and the files and
bytes done, and its WebSocket group hears each change (at most twice a second).

What a site's snapshot holds (under one staging folder, ``<BACKUP_ROOT>/scratch/<backup-id>``):
``files/`` (the site's working files; for WordPress, its ``wp-content``), ``live/`` (the files
of the live deployment, when there is one), ``berth/manifest.json`` (that deployment's
manifest), ``berth/editor.json`` (the editor's page documents) and, for WordPress,
``berth/database.sql`` (``mysqldump --single-transaction``). The row's ``record`` keeps the
sha256 of every file and the rows of every table, which restore drills compare against.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backups import alerts, database, events, jobs, restic, retention, storage
from backups.models import Backup, Repository
from controlpanel.enqueue import enqueue_on_commit
from deployments.blobs import BlobStore
from deployments.models import ManifestEntry
from editor.models import Page
from hosting.files.backends import tree_for
from hosting.models import Site
from teams.audit import audit_record
from wordpress import mariadb
from wordpress.layout import layout_for

log = logging.getLogger(__name__)

BACKUP_TASK = "backups.tasks.backup_run"
CHECK_SUBSET = "1/10"
CHUNK = 1024 * 1024


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


def repository_ready(repo: Repository) -> None:
    if repo.initialized_at is not None:
        return
    if not repo.location.startswith("s3:"):
        Path(repo.location).parent.mkdir(parents=True, exist_ok=True)
    restic.init(repo.location, repo.password)
    Repository.objects.filter(pk=repo.pk).update(initialized_at=timezone.now())


def finish(model, pk, *, error: str = "", **fields) -> None:
    state = model.State.FAILED if error else model.State.SUCCEEDED
    model.objects.filter(pk=pk).update(
        state=state, reason=error[:2000], finished_at=timezone.now(), **fields
    )


def reason_of(exc: Exception) -> str:
    reason = str(exc) or type(exc).__name__
    expected = (
        restic.ResticError,
        BackupFailed,
        database.DatabaseError,
        mariadb.MariaDBError,
        OSError,
    )
    if not isinstance(exc, expected):
        log.exception("Unexpected backup error")
        reason = f"Unexpected error: {reason}"
    return reason


def scratch(name: str) -> Path:
    path = Path(settings.BACKUP_ROOT) / "scratch" / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    path.chmod(0o700)
    return path


def staged_in(restored: Path, backup: Backup) -> Path:
    """Where a snapshot restored into ``restored`` keeps the backup's staging folder."""
    return restored / (Path(settings.BACKUP_ROOT) / "scratch" / str(backup.pk)).relative_to("/")


# --- Making backups -------------------------------------------------------------------------


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


def backup_run(*, backup_id) -> Backup | None:
    """Run a queued backup (the task's body). Claims it (queued, or running after its worker
    died) and ends it ``succeeded`` or ``failed`` with the reason; a failed scheduled backup
    alerts the team."""
    if not jobs.claim(Backup, backup_id):
        return None
    backup = Backup.objects.select_related("site__team").get(pk=backup_id)
    events.backup_changed(backup_id)
    try:
        with jobs.heartbeats(Backup, backup_id):
            fields = _backup_steps(backup, Progress(backup_id))
    except Exception as exc:  # every failure ends the run failed, with its reason
        reason = reason_of(exc)
        log.warning("Backup %s of site %s failed: %s", backup_id, backup.site_id, reason)
        finish(Backup, backup_id, error=reason, phase="")
    else:
        finish(Backup, backup_id, phase="", **fields)
        retention.apply(site=backup.site)
        storage.repository_measure(team=backup.site.team)
    events.backup_changed(backup_id)
    done = Backup.objects.select_related("site__team").get(pk=backup_id)
    if done.state == Backup.State.FAILED:
        alerts.backup_failed(backup=done)
    return done


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


class Progress:
    """A running backup's phase and the files and bytes done: stored on its row (at most
    every ``EVERY`` seconds, and at each new phase), then announced to its group."""

    EVERY = 0.5

    def __init__(self, backup_id):
        self.backup_id = backup_id
        self.phase = None
        self.last = 0.0

    def __call__(self, phase: str, *, files=0, size=0, total_files=0, total_bytes=0) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < self.EVERY:
            return
        self.phase, self.last = phase, now
        Backup.objects.filter(pk=self.backup_id, state=Backup.State.RUNNING).update(
            phase=phase,
            progress_files=int(files),
            progress_bytes=int(size),
            total_files=int(total_files),
            total_bytes=int(total_bytes),
            heartbeat_at=timezone.now(),
        )
        events.backup_changed(self.backup_id)

    def restic_status(self, status: dict) -> None:
        self(
            "uploading",
            files=status.get("files_done") or 0,
            size=status.get("bytes_done") or 0,
            total_files=status.get("total_files") or 0,
            total_bytes=status.get("total_bytes") or 0,
        )


def _backup_steps(backup: Backup, progress: Progress) -> dict:
    site = backup.site
    repo = repository_for(site.team)
    repository_ready(repo)
    stage = scratch(str(backup.pk))
    try:
        record = _stage(site, stage, progress)
        expected = {path: item["size"] for path, item in record["files"].items()}
        summary = restic.backup(
            repo.location,
            repo.password,
            str(stage),
            tags=[f"site:{site.pk}", f"backup:{backup.pk}"],
            on_status=progress.restic_status,
        )
        snapshot_id = summary["snapshot_id"]
        progress(
            "checking",
            files=len(expected),
            size=sum(expected.values()),
            total_files=len(expected),
            total_bytes=sum(expected.values()),
        )
        restic.check(repo.location, repo.password, read_data_subset=CHECK_SUBSET)
        verify_snapshot(repo, snapshot_id, stage, expected)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return {
        "snapshot_id": snapshot_id,
        "files": len(expected),
        "size": sum(expected.values()),
        "added_bytes": int(summary.get("data_added") or 0),
        "has_database": "tables" in record,
        "verified_at": timezone.now(),
        "record": record,
    }


def _stage(site: Site, stage: Path, progress: Progress) -> dict:
    """Write what the snapshot must hold into ``stage``; its record: every file's size and
    sha256 (by path inside the stage) and, for WordPress, the rows of every table."""
    progress("staging")
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
            with tree.open(entry.path) as source:
                _copy_in(source, files / entry.path)
    meta = stage / "berth"
    meta.mkdir()
    manifest = _manifest(site)
    if manifest["files"]:
        _stage_live(manifest, stage / "live")
    (meta / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (meta / "editor.json").write_text(json.dumps(_editor_documents(site), indent=1))
    record: dict = {}
    if site.kind == Site.Kind.WORDPRESS:
        progress("dumping")
        try:
            record["tables"] = database.dump(database_name(site), meta / "database.sql")
        except database.DatabaseError as exc:
            raise BackupFailed(str(exc)) from exc
    record["files"] = checksums(stage, progress)
    return record


def _copy_in(source, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK)


def _stage_live(manifest: dict, live: Path) -> None:
    """The live deployment's files, from the blob store (so a restore can publish exactly
    the release that was live, whatever built it)."""
    store = BlobStore()
    for item in manifest["files"]:
        try:
            with store.open(item["digest"]) as source:
                _copy_in(source, live / item["path"])
        except FileNotFoundError as exc:
            raise BackupFailed(
                f"The live release's file {item['path']} is missing from the blob store."
            ) from exc


def checksums(root: Path, progress: Progress | None = None) -> dict[str, dict]:
    """Every regular file under ``root``: its size and sha256, by relative path."""
    found: dict[str, dict] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
        size = path.stat().st_size
        found[path.relative_to(root).as_posix()] = {"size": size, "sha256": digest.hexdigest()}
        total += size
        if progress is not None:
            progress("staging", files=len(found), size=total)
    return found


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


def database_name(site: Site) -> str:
    try:
        return database.checked(site.wordpress.db_name)
    except database.DatabaseError as exc:
        raise BackupFailed(str(exc)) from exc


def verify_snapshot(repo: Repository, snapshot_id: str, stage: Path, expected: dict) -> None:
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


def backups_reap(*, stale_after: float | None = None) -> list:
    """Fail backups whose worker died (the failure of a scheduled one alerts the team)."""

    def after(pk):
        shutil.rmtree(Path(settings.BACKUP_ROOT) / "scratch" / str(pk), ignore_errors=True)
        Backup.objects.filter(pk=pk).update(phase="")
        events.backup_changed(pk)
        alerts.backup_failed(backup=Backup.objects.select_related("site__team").get(pk=pk))

    return jobs.reap(
        Backup,
        what="it holds nothing and cannot be restored; back up again.",
        stale_after=stale_after,
        on_reaped=after,
    )
