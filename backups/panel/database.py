"""The panel's database in Berth's own backup: ``pg_dump`` (custom format) for PostgreSQL,
SQLite's online backup API for the embedded default; and loading one into an empty database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection, connections

ENGINES = {"postgresql": "postgresql.dump", "sqlite": "sqlite3.db"}


class DatabaseError(Exception):
    """A dump or a load failed (the message says why, in the tool's own words)."""


def engine() -> str:
    """``postgresql`` or ``sqlite``: the engines Berth runs on."""
    if connection.vendor not in ENGINES:
        raise DatabaseError(f"Backing up a {connection.vendor} database is not supported.")
    return connection.vendor


def table_count() -> int:
    return len(connection.introspection.table_names())


def _pg_env() -> dict:
    db = connection.settings_dict
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PGDATABASE": db["NAME"]}
    for name, value in (
        ("PGHOST", db.get("HOST")),
        ("PGPORT", db.get("PORT")),
        ("PGUSER", db.get("USER")),
        ("PGPASSWORD", db.get("PASSWORD")),
        ("PGSSLMODE", (db.get("OPTIONS") or {}).get("sslmode")),
    ):
        if value:
            env[name] = str(value)
    return env


def _run(command: list[str], what: str) -> str:
    try:
        done = subprocess.run(
            command,
            env=_pg_env(),
            capture_output=True,
            text=True,
            timeout=settings.BACKUP_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise DatabaseError(f"{what}: {command[0]} is not installed (postgresql-client).") from exc
    except subprocess.TimeoutExpired as exc:
        raise DatabaseError(f"{what} took longer than {settings.BACKUP_TIMEOUT} s.") from exc
    if done.returncode != 0:
        said = done.stderr.strip()[-800:] or "no message"
        raise DatabaseError(f"{what} failed (exit {done.returncode}): {said}")
    return done.stdout


def dump(folder: Path) -> Path:
    """Write a consistent copy of the database into ``folder``, check it reads back, and
    answer its path."""
    kind = engine()
    target = folder / ENGINES[kind]
    if kind == "postgresql":
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}"],
            "pg_dump",
        )
        # The archive's table of contents reads back: a truncated dump fails here.
        if "TABLE DATA" not in _run(["pg_restore", "--list", str(target)], "Reading the dump"):
            raise DatabaseError("The database dump holds no table data.")
    else:
        source = sqlite3.connect(connection.settings_dict["NAME"])
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if verdict != "ok":
            raise DatabaseError(f"The copy of the SQLite database is damaged: {verdict}")
    return target


def load(path: Path, kind: str) -> None:
    """Load a dump made by ``dump`` into this Berth's (empty) database."""
    if kind != engine():
        raise DatabaseError(
            f"This backup holds a {kind} database, but this Berth uses {engine()} "
            "(DATABASE_URL): restore it into the same kind of database."
        )
    if kind == "postgresql":
        connections.close_all()
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={connection.settings_dict['NAME']}",
                str(path),
            ],
            "pg_restore",
        )
        return
    connections.close_all()
    source = sqlite3.connect(path)
    target = sqlite3.connect(connection.settings_dict["NAME"])
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
