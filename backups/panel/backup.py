"""Making one backup of Berth itself (see the package's docstring for what it holds)."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import FileSystemStorage, storages
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from backups import restic
from backups.panel import (
    CHECK_SUBSET,
    FORMAT,
    STAGE_NAME,
    TAG,
    PanelBackupError,
    database,
    exclusive,
    keys,
    password,
    repository_location,
    scratch,
)
from hosting.models import Site
from teams.models import Team

STORES = ("default", "sitefiles", "blobs")


def walk(root: Path) -> dict[str, int]:
    """Every regular file under ``root`` (absolute path -> size)."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found[str(path)] = path.stat().st_size
    return found


def _storage_names(storage, prefix: str = ""):
    folders, names = storage.listdir(prefix)
    for name in names:
        yield f"{prefix}{name}"
    for folder in folders:
        yield from _storage_names(storage, f"{prefix}{folder}/")


def _stores(stage: Path) -> dict[str, dict]:
    """Each file store's folder in the snapshot: a local store's own folder, or a copy of an
    object store's files made in the stage."""
    found = {}
    for name in STORES:
        storage = storages[name]
        if isinstance(storage, FileSystemStorage):
            root = Path(storage.location)
            if root.is_dir():
                found[name] = {"path": str(root)}
            continue
        root = stage / "stores" / name
        root.mkdir(parents=True)
        for key in _storage_names(storage):
            target = root / key
            target.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(key, "rb") as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
        found[name] = {"path": str(root), "copied": True}
    return found


def _site_repositories(include: bool) -> dict | None:
    root = Path(settings.BACKUP_ROOT) / "repositories"
    if not include or settings.S3_BUCKET or not root.is_dir():
        return None
    return {"path": str(root)}


def _counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "teams": Team.objects.count(),
        "sites": Site.objects.count(),
    }


def _migrations() -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("id").values_list("app", "name"):
        latest[app] = name
    return latest


def panel_backup(
    *, location: str = "", include_site_backups: bool = True, keep_last: int | None = None
) -> dict:
    """Back Berth up into its repository (made on first use), check the repository and that
    the snapshot holds every file; the snapshot's ``id``, ``files``, ``bytes`` and ``added``
    bytes. PanelBackupError with the reason on any failure."""
    location = repository_location(location)
    secret = password()
    with exclusive():
        stage = scratch(STAGE_NAME)
        try:
            return _back_up(location, secret, stage, include_site_backups, keep_last)
        except (restic.ResticError, database.DatabaseError, OSError) as exc:
            raise PanelBackupError(str(exc)) from exc
        finally:
            shutil.rmtree(stage, ignore_errors=True)


def _back_up(location, secret, stage: Path, include_site_backups, keep_last) -> dict:
    (stage / "database").mkdir()
    dump = database.dump(stage / "database")
    keys.write(stage)
    stores = _stores(stage)
    site_repositories = _site_repositories(include_site_backups)
    manifest = {
        "format": FORMAT,
        "created": timezone.now().isoformat(),
        "host": socket.gethostname(),
        "database": {"engine": database.engine(), "file": dump.relative_to(stage).as_posix()},
        "secrets": {"file": keys.FILE, "warning": keys.WARNING},
        "stores": stores,
        "site_repositories": site_repositories,
        "counts": _counts(),
        "migrations": _migrations(),
    }
    (stage / "berth.json").write_text(json.dumps(manifest, indent=1))

    staged = walk(stage)
    elsewhere: dict[str, int] = {}
    paths = [str(stage)]
    for part in [*stores.values(), site_repositories]:
        if part and not part.get("copied"):
            paths.append(part["path"])
            elsewhere.update(walk(Path(part["path"])))
    total_files = len(staged) + len(elsewhere)
    total_bytes = sum(staged.values()) + sum(elsewhere.values())

    if not restic.exists(location, secret):
        if not location.startswith("s3:"):
            Path(location).mkdir(parents=True, exist_ok=True)
        restic.init(location, secret)
    tags = [f"files:{total_files}", f"bytes:{total_bytes}"]
    args = ["backup", "--json", "--host", socket.gethostname(), "--tag", TAG]
    for tag in tags:
        args += ["--tag", tag]
    summaries = [
        line
        for line in restic.json_lines(restic.run(location, secret, *args, *paths))
        if line.get("message_type") == "summary"
    ]
    if not summaries or not summaries[-1].get("snapshot_id"):
        raise PanelBackupError("restic backup finished without reporting a snapshot.")
    snapshot_id = summaries[-1]["snapshot_id"]
    restic.check(location, secret, read_data_subset=CHECK_SUBSET)
    _verify(location, secret, snapshot_id, staged, elsewhere)
    if keep_last:
        restic.run(
            location, secret, "forget", "--tag", TAG, "--group-by", "",
            "--keep-last", str(keep_last), "--prune",
        )  # fmt: skip
    return {
        "id": snapshot_id[:8],
        "files": total_files,
        "bytes": total_bytes,
        "added": int(summaries[-1].get("data_added") or 0),
        "counts": manifest["counts"],
    }


def _verify(location, secret, snapshot_id, staged: dict, elsewhere: dict) -> None:
    """restic's own listing of the snapshot holds every staged file at its size, and every
    store file that still exists (a store may change while it is read)."""
    listed = {
        node["path"]: node.get("size", 0)
        for node in restic.json_lines(restic.run(location, secret, "ls", "--json", snapshot_id))
        if node.get("struct_type") == "node" and node.get("type") == "file"
    }
    for path, size in staged.items():
        if listed.get(path) != size:
            raise PanelBackupError(f"The snapshot lacks {path} or holds it at the wrong size.")
    missing = [p for p in elsewhere if p not in listed and os.path.exists(p)]
    if missing:
        raise PanelBackupError(f"The snapshot lacks {len(missing)} file(s), e.g. {missing[0]}.")
