"""Restoring Berth from one of its own backups into an empty database and empty folders
(a new machine): every precondition is checked before anything is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command

from backups import restic
from backups.models import Repository
from backups.panel import (
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
from backups.panel.backup import walk
from hosting.models import Site
from teams.models import Team


def _snapshot(location: str, secret: str, snapshot: str) -> dict:
    try:
        found = restic.snapshots(location, secret, snapshot, tag=TAG)
    except restic.ResticError as exc:
        raise PanelBackupError(str(exc)) from exc
    if not found:
        raise PanelBackupError(
            f"No backup of Berth {snapshot!r} in {location} (`manage.py restore --list`)."
        )
    return found[-1]


def _stage_path(snapshot: dict) -> str:
    for path in snapshot.get("paths") or []:
        if Path(path).name == STAGE_NAME:
            return path
    raise PanelBackupError(f"Snapshot {snapshot['short_id']} is not a backup of Berth.")


def _restore(location, secret, snapshot_id: str, target: Path, includes: list[str]) -> None:
    args = ["restore", snapshot_id, "--target", str(target)]
    for path in includes:
        args += ["--include", path]
    restic.run(location, secret, *args)


def _inside(target: Path, path: str) -> Path:
    return target / Path(path).relative_to("/")


def _empty_folder(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _move_into(source: Path, target: Path) -> None:
    if target.exists():
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))


def panel_secrets(*, location: str = "", snapshot: str = "latest", target: Path) -> None:
    """Write the backup's encryption keys to ``target`` as environment variables (mode 600)."""
    location, secret = repository_location(location), password()
    found = _snapshot(location, secret, snapshot)
    stage_path = _stage_path(found)
    with exclusive():
        work = scratch("panel-restore")
        try:
            _restore(location, secret, found["id"], work, [f"{stage_path}/{keys.FILE}"])
            keys.write_env_file(keys.read(_inside(work, stage_path) / keys.FILE), target)
        except restic.ResticError as exc:
            raise PanelBackupError(str(exc)) from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)


def panel_restore(*, location: str = "", snapshot: str = "latest") -> dict:
    """Restore Berth from a backup into this machine's (empty) database, file stores and
    site-backup folder, then bring the schema up to date and check that the counts and the
    secrets read back. What was restored; PanelBackupError (nothing written) when a
    precondition fails."""
    location, secret = repository_location(location), password()
    found = _snapshot(location, secret, snapshot)
    stage_path = _stage_path(found)
    with exclusive():
        work = scratch("panel-restore")
        try:
            return _restore_steps(location, secret, found, stage_path, work)
        except (restic.ResticError, database.DatabaseError, keys.KeysError, OSError) as exc:
            raise PanelBackupError(str(exc)) from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _restore_steps(location, secret, found: dict, stage_path: str, work: Path) -> dict:
    _restore(location, secret, found["id"], work, [stage_path])
    stage = _inside(work, stage_path)
    manifest = json.loads((stage / "berth.json").read_text())
    if manifest.get("format") != FORMAT:
        raise PanelBackupError(f"Unknown backup format {manifest.get('format')!r}.")
    backup_keys = keys.read(stage / keys.FILE)

    # Preconditions, all checked before anything is written.
    secret_key_file = keys.plan(backup_keys)
    if manifest["database"]["engine"] != database.engine():
        raise PanelBackupError(
            f"This backup holds a {manifest['database']['engine']} database, but this Berth "
            f"uses {database.engine()} (DATABASE_URL): restore into the same kind of database."
        )
    if tables := database.table_count():
        raise PanelBackupError(
            f"The database already holds {tables} tables: restore into an empty database "
            "(a new one, or drop these tables first)."
        )
    for name in manifest["stores"]:
        storage = storages[name]
        if isinstance(storage, FileSystemStorage):
            if not _empty_folder(Path(storage.location)):
                raise PanelBackupError(
                    f"The {name!r} file store ({storage.location}) is not empty: restore into "
                    "empty folders."
                )
        elif any(storage.listdir("")):
            raise PanelBackupError(f"The {name!r} file store is not empty.")
    repositories = Path(settings.BACKUP_ROOT) / "repositories"
    if manifest.get("site_repositories") and not _empty_folder(repositories):
        raise PanelBackupError(f"{repositories} is not empty: restore into an empty folder.")

    database.load(stage / manifest["database"]["file"], manifest["database"]["engine"])

    elsewhere = [p["path"] for p in manifest["stores"].values() if not p.get("copied")]
    if manifest.get("site_repositories"):
        elsewhere.append(manifest["site_repositories"]["path"])
    if elsewhere:
        _restore(location, secret, found["id"], work, elsewhere)
    restored_files = 0
    for name, part in manifest["stores"].items():
        source = _inside(work, part["path"]) if not part.get("copied") else stage / "stores" / name
        restored_files += len(walk(source)) if source.is_dir() else 0
        _store_put_back(name, source)
    if manifest.get("site_repositories"):
        old = manifest["site_repositories"]["path"]
        _move_into(_inside(work, old), repositories)
        _relocate_repositories(old, str(repositories))

    if secret_key_file is not None:
        keys.put_in_place(backup_keys, secret_key_file)
    call_command("migrate", interactive=False, verbosity=0)
    counts = {
        "users": get_user_model().objects.count(),
        "teams": Team.objects.count(),
        "sites": Site.objects.count(),
    }
    if counts != manifest["counts"]:
        raise PanelBackupError(
            f"The restored database counts {counts}, the backup recorded {manifest['counts']}."
        )
    return {
        "id": found["short_id"],
        "created": manifest["created"],
        "counts": counts,
        "files": restored_files,
        "secrets_read": keys.check_readable(backup_keys),
        "secret_key_written": str(secret_key_file or ""),
    }


def _store_put_back(name: str, source: Path) -> None:
    if not source.is_dir():
        return
    storage = storages[name]
    if isinstance(storage, FileSystemStorage):
        _move_into(source, Path(storage.location))
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            key = path.relative_to(source).as_posix()
            with open(path, "rb") as stream:
                saved = storage.save(key, File(stream, name=key))
            if saved != key:
                raise PanelBackupError(f"The {name!r} store saved {key} as {saved}.")


def _relocate_repositories(old: str, new: str) -> None:
    """Local site-backup repositories now live under this machine's BACKUP_ROOT."""
    if old == new:
        return
    old, new = old.rstrip("/"), new.rstrip("/")
    # Only the two columns: the password is encrypted with keys this process may not hold yet.
    moved = Repository.objects.filter(location__startswith=old + "/")
    for pk, location in list(moved.values_list("pk", "location")):
        Repository.objects.filter(pk=pk).update(location=new + location[len(old) :])
