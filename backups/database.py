"""A WordPress site's database in backups: the dump (``mysqldump --single-transaction``, one
row per INSERT line so the dump itself says how many rows each table holds), loading a dump
into a scratch database, counting rows, and swapping a loaded scratch database's tables in
for the live ones in one atomic ``RENAME TABLE``.

Database names come from ``wordpress.layout`` or are made here (``wp_`` + hex digits) and are
checked before they reach a statement or a command line.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path

from django.conf import settings

from wordpress import mariadb


class DatabaseError(Exception):
    """A dump, load or swap failed (the message says which and why)."""


INSERT = re.compile(rb"^INSERT INTO `((?:[^`]|``)+)` VALUES ")
CREATE = re.compile(rb"^CREATE TABLE `((?:[^`]|``)+)` \(")


def checked(name: str) -> str:
    if not mariadb.NAME.match(name or ""):
        raise DatabaseError(f"Refusing the database name {name!r}.")
    return name


def scratch_name() -> str:
    """A fresh name for a scratch database (restores and drills load dumps there first)."""
    return f"wp_{secrets.token_hex(12)}"


def _command(binary: str) -> tuple[list[str], dict]:
    server = mariadb.server()
    if server is None:
        raise DatabaseError("MARIADB_URL is not set: the WordPress database cannot be reached.")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "MYSQL_PWD": server.password}
    command = [binary, f"--host={server.host}", f"--port={server.port}", f"--user={server.user}"]
    return command, env


def _run(command: list[str], env: dict, *, stdin=None, stdout=None, what: str) -> None:
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
        raise DatabaseError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()[-500:] or "no message"
        raise DatabaseError(f"{what} failed (exit {done.returncode}): {message}")


def dump(name: str, target: Path) -> dict[str, int]:
    """Dump database ``name`` into ``target``; the rows of each table, as the dump holds them."""
    command, env = _command("mysqldump")
    command += [
        "--single-transaction",
        "--skip-extended-insert",  # one row a line: the dump counts its own rows
        "--hex-blob",
        "--routines",
        "--triggers",
        "--",
        checked(name),
    ]
    with open(target, "wb") as out:
        _run(command, env, stdout=out, what="The database dump")
    if target.stat().st_size == 0:
        raise DatabaseError("The database dump is empty.")
    return rows_in_dump(target)


def rows_in_dump(path: Path) -> dict[str, int]:
    """Each table the dump creates, with the number of rows it inserts."""
    rows: dict[str, int] = {}
    with open(path, "rb") as stream:
        for line in stream:
            match = INSERT.match(line)
            if match:
                table = match.group(1).replace(b"``", b"`").decode(errors="replace")
                rows[table] = rows.get(table, 0) + 1
                continue
            match = CREATE.match(line)
            if match:
                rows.setdefault(match.group(1).replace(b"``", b"`").decode(errors="replace"), 0)
    return rows


def create(name: str) -> None:
    with mariadb.connect() as conn, conn.cursor() as cursor:
        cursor.execute(
            f"CREATE DATABASE `{checked(name)}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )


def drop(name: str) -> None:
    with mariadb.connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{checked(name)}`")


def exists(name: str) -> bool:
    return mariadb.database_exists(checked(name))


def load(name: str, dump_path: Path) -> None:
    """Run the dump's statements in database ``name``."""
    command, env = _command("mysql")
    command += ["--", checked(name)]
    with open(dump_path, "rb") as stream:
        _run(command, env, stdin=stream, what="Loading the database")


def tables(name: str) -> list[str]:
    """The base tables of database ``name`` (views are not counted)."""
    with mariadb.connect() as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
            [checked(name)],
        )
        return [row[0] for row in cursor.fetchall()]


def _quoted(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def row_counts(name: str) -> dict[str, int]:
    """The rows of every base table of database ``name``, counted."""
    counts = {}
    with mariadb.connect() as conn, conn.cursor() as cursor:
        for table in tables(name):
            cursor.execute(f"SELECT COUNT(*) FROM {_quoted(name)}.{_quoted(table)}")  # noqa: S608
            counts[table] = int(cursor.fetchone()[0])
    return counts


def swap_in(*, live: str, loaded: str, trash: str) -> None:
    """Make ``loaded``'s tables the live ones in one atomic ``RENAME TABLE``: the live tables
    move to ``trash`` (so the swap can be undone), the loaded ones into ``live``."""
    live, loaded, trash = checked(live), checked(loaded), checked(trash)
    moves = [f"{_quoted(live)}.{_quoted(t)} TO {_quoted(trash)}.{_quoted(t)}" for t in tables(live)]
    moves += [
        f"{_quoted(loaded)}.{_quoted(t)} TO {_quoted(live)}.{_quoted(t)}" for t in tables(loaded)
    ]
    if not moves:
        return
    with mariadb.connect() as conn, conn.cursor() as cursor:
        cursor.execute("RENAME TABLE " + ", ".join(moves))
