"""Whether an installation is prepared, so that a start can skip the preparing Django start-up.

``manage.py serve --prepare`` migrates, makes sure an operator account exists and collects the
static files when their sources changed; each start spent a whole Django start-up (about a
second of CPU) on that, mostly to find nothing to do. After it, ``record()`` keeps a digest of
everything that would give it work: the migration files of every installed app, the static
sources and the collected manifest, the database settings (for SQLite, the file itself) and
the operator variables. ``fresh()`` computes the digest again from the settings alone (no app
loaded, no database opened), so ``scripts/run.sh`` starts supervisord at once when nothing
changed (controlpanel/startup.py). Any change, or any doubt, means a full prepare.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from django.conf import settings

OPERATOR_VARIABLES = ("BERTH_ADMIN_EMAIL", "BERTH_ADMIN_PASSWORD")


def stamp_path() -> Path:
    return Path(settings.VAR_DIR) / "run" / "prepared.json"


def _digest(migration_dirs: list[str], static_dirs: list[str]) -> str:
    digest = hashlib.sha256()
    database = settings.DATABASES["default"]
    shape = (
        tuple(settings.INSTALLED_APPS),
        settings.DEBUG,
        settings.STATIC_URL,
        str(settings.STATIC_ROOT),
        repr(settings.STORAGES),
        database["ENGINE"],
        str(database["NAME"]),
        database.get("HOST", ""),
        str(database.get("PORT", "")),
        tuple(os.environ.get(name, "") for name in OPERATOR_VARIABLES),
    )
    digest.update(repr(shape).encode())
    if database["ENGINE"].endswith("sqlite3"):
        try:  # the same file: a new (or deleted) database gets migrated again
            stat = os.stat(database["NAME"])
            digest.update(f"db\0{stat.st_dev}\0{stat.st_ino}\n".encode())
        except OSError:
            digest.update(b"db\0missing\n")
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    digest.update(f"manifest\0{manifest.exists()}\n".encode())
    for folder in migration_dirs:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            names = ["\0missing"]
        digest.update(f"migrations\0{folder}\n".encode())
        for name in names:
            if name.endswith(".py"):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    for root in static_dirs:
        digest.update(f"static\0{root}\n".encode())
        for folder, subfolders, files in os.walk(root):
            subfolders.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _sources() -> tuple[list[str], list[str]]:
    """The folders to watch (with the apps loaded): migrations and static sources."""
    from django.apps import apps
    from django.contrib.staticfiles import finders

    migrations = sorted(
        str(Path(app.path) / "migrations")
        for app in apps.get_app_configs()
        if (Path(app.path) / "migrations").is_dir()
    )
    static = set()
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            if getattr(storage, "location", None):
                static.add(str(storage.location))
    return migrations, sorted(static)


def record() -> None:
    """After a successful prepare: remember its digest. The operator account is asked for (or
    its absence explained) by the prepare that records; a later change of the operator
    variables prepares again."""
    path = stamp_path()
    migrations, static = _sources()
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"migrations": migrations, "static": static, "digest": _digest(migrations, static)}
    path.write_text(json.dumps(state))


def fresh() -> bool:
    """Whether the last prepare still holds (computed from the settings alone)."""
    try:
        state = json.loads(stamp_path().read_text())
        return state["digest"] == _digest(state["migrations"], state["static"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
