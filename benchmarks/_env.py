"""A throwaway Berth for benchmarks: SQLite, files and edge under a temporary folder."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(name: str, database_url: str = "", redis_url: str = "") -> Path:
    """Point Berth at a fresh temporary folder (and ``database_url``, default a SQLite file
    in it) and ``redis_url`` (default none), migrate, and return the folder."""
    work = Path(tempfile.mkdtemp(prefix=f"berth-{name}-"))
    os.environ.update(
        BERTH_READ_DOTENV="0",
        BERTH_VAR_DIR=str(work / "var"),
        MEDIA_ROOT=str(work / "media"),
        EDGE_ROOT=str(work / "edge"),
        DATABASE_URL=database_url or f"sqlite:///{work / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="controlpanel.settings",
        SITES_DOMAIN="localhost",
        LOG_LEVEL="WARNING",
    )
    for key in ("REDIS_URL", "S3_BUCKET"):
        os.environ.pop(key, None)
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return work


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP end the benchmark as Ctrl+C does: by an exception, so the ``finally``
    blocks stop the servers it started (without this they outlive it)."""
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    for each in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, stop)


def owner():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        email="bench@example.com", password=None, name="Bench"
    )
