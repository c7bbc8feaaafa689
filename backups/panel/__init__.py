"""Berth's own backup (``manage.py backup`` / ``manage.py restore``): the panel's database,
its file stores (avatars, sites' working files, deployment blobs), the teams' site-backup
repositories when they live on local disk, and the encryption keys (marked as secret) — in a
restic repository of its own (a folder or an S3-compatible bucket), encrypted with a password
the operator keeps off the machine. docs/disaster-recovery.md walks through a restore.

A snapshot holds one staging folder (``.../scratch/berth-panel``) with ``berth.json`` (what the
snapshot holds and how much of it), ``database/`` and ``secrets/``, plus each local store's and
the site repositories' own folders (their paths recorded in ``berth.json``).
"""

from __future__ import annotations

import fcntl
import shutil
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from backups import restic

TAG = "berth-panel"
STAGE_NAME = "berth-panel"
FORMAT = "berth-panel-backup/1"
CHECK_SUBSET = "1/10"


class PanelBackupError(Exception):
    """A backup or restore of Berth itself failed or was refused (the message says why)."""


def repository_location(location: str = "") -> str:
    """Where Berth's own backups go: ``location``, else PANEL_BACKUP_REPOSITORY, else the
    ``panel`` folder beside the site backups (in the S3 bucket when there is one)."""
    location = location or settings.PANEL_BACKUP_REPOSITORY
    if location:
        if ":" not in location.split("/")[0]:
            location = str(Path(location).expanduser().resolve())
        return location
    if settings.S3_BUCKET:
        endpoint = (settings.S3_ENDPOINT_URL or "https://s3.amazonaws.com").rstrip("/")
        return f"s3:{endpoint}/{settings.S3_BUCKET}/panel"
    return str(Path(settings.BACKUP_ROOT) / "panel")


def password() -> str:
    if not settings.PANEL_BACKUP_PASSWORD:
        raise PanelBackupError(
            "Set PANEL_BACKUP_PASSWORD (or PANEL_BACKUP_PASSWORD_FILE): the password of Berth's "
            "own backup repository. Keep a copy away from this machine: without it the backups "
            "cannot be read."
        )
    return settings.PANEL_BACKUP_PASSWORD


def scratch(name: str) -> Path:
    path = Path(settings.BACKUP_ROOT) / "scratch" / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, mode=0o700)
    return path


@contextmanager
def exclusive():
    """One backup or restore of the panel at a time on this machine."""
    folder = Path(settings.BACKUP_ROOT) / "scratch"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{STAGE_NAME}.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise PanelBackupError("Another backup or restore of Berth is running.") from exc
        yield


def tag_value(snapshot: dict, name: str) -> int:
    for tag in snapshot.get("tags") or []:
        key, _, value = tag.partition(":")
        if key == name and value.isdigit():
            return int(value)
    return 0


def panel_backups(*, location: str = "") -> list[dict]:
    """Berth's own backups in the repository, newest first: ``id``, ``time``, ``host``,
    ``files``, ``bytes``."""
    location = repository_location(location)
    try:
        listed = restic.snapshots(location, password(), tag=TAG)
    except restic.ResticError as exc:
        raise PanelBackupError(str(exc)) from exc
    return [
        {
            "id": s["short_id"],
            "time": s["time"],
            "host": s.get("hostname", ""),
            "files": tag_value(s, "files"),
            "bytes": tag_value(s, "bytes"),
        }
        for s in reversed(listed)
    ]


def panel_check(*, location: str = "", read_all: bool = True) -> None:
    """``restic check`` of the repository, reading every pack back when ``read_all``."""
    location = repository_location(location)
    try:
        restic.check(location, password(), read_data_subset="100%" if read_all else CHECK_SUBSET)
    except restic.ResticError as exc:
        raise PanelBackupError(str(exc)) from exc
