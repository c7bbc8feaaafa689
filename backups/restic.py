"""restic, run as a command: every call checks the exit code and turns a failure into
``ResticError`` carrying restic's own words, so no failure is ever taken for success.

The password reaches restic through its environment (``RESTIC_PASSWORD``), never the command
line; arguments are passed as a list, never through a shell.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings


class ResticError(Exception):
    """restic failed (non-zero exit, unreadable output, or not installed)."""


def _env(location: str, password: str) -> dict:
    cache = Path(settings.BACKUP_ROOT) / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cache),
        "RESTIC_REPOSITORY": location,
        "RESTIC_PASSWORD": password,
        "RESTIC_CACHE_DIR": str(cache),
    }
    if location.startswith("s3:"):
        env["AWS_ACCESS_KEY_ID"] = settings.AWS_ACCESS_KEY_ID
        env["AWS_SECRET_ACCESS_KEY"] = settings.AWS_SECRET_ACCESS_KEY
        env["AWS_DEFAULT_REGION"] = settings.S3_REGION
    return env


PROGRESS_FPS = "2"  # restic's --json status lines per second while backing up
PR_SET_PDEATHSIG = 1
try:  # looked up here, so the child only makes one call between fork and exec
    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent() -> None:  # runs in the child before exec
    """restic is killed with the worker that started it (a killed run leaves nothing going)."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


LOCKED = ("lock was created at", "repository is already locked")
LOCK_WAIT = 120  # seconds to wait for another run's lock (restic 0.14 has no --retry-lock)


def run(
    location: str,
    password: str,
    *args: str,
    cwd: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> str:
    """Run ``restic <args>``; while another run (say, a prune) holds the repository's lock,
    wait and try again for up to ``LOCK_WAIT`` seconds. ``on_line`` hears each line of
    standard output as restic prints it."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            return _run_once(location, password, *args, cwd=cwd, on_line=on_line)
        except ResticError as exc:
            if not any(word in str(exc) for word in LOCKED) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def _run_once(
    location: str,
    password: str,
    *args: str,
    cwd: str | None = None,
    on_line: Callable[[str], None] | None = None,
) -> str:
    """Run ``restic <args>`` on the repository; its standard output, or ``ResticError``."""
    command = [settings.RESTIC_BINARY, *args]
    env = _env(location, password)
    env["RESTIC_PROGRESS_FPS"] = PROGRESS_FPS
    try:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )
    except FileNotFoundError as exc:
        raise ResticError(
            f"restic is not installed ({settings.RESTIC_BINARY!r} not found)."
        ) from exc
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    reader.start()
    timer = threading.Timer(settings.BACKUP_TIMEOUT, process.kill)
    timer.start()
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line)
        process.wait()
    finally:
        timed_out = not timer.is_alive()
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join()
    if timed_out and process.returncode != 0:
        raise ResticError(f"restic {args[0]} took longer than {settings.BACKUP_TIMEOUT} s.")
    output = "".join(lines)
    if process.returncode != 0:
        said = ("".join(errors) or output).strip().splitlines()
        tail = " ".join(said[-4:])[:500] or "no message"
        raise ResticError(f"restic {args[0]} failed (exit {process.returncode}): {tail}")
    return output


def json_lines(output: str) -> list[dict]:
    """restic's ``--json`` output: one JSON object per line (non-JSON lines ignored)."""
    objects = []
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ResticError(f"restic printed unreadable JSON: {line[:200]}") from exc
    return objects


def init(location: str, password: str) -> None:
    run(location, password, "init")


def backup(
    location: str,
    password: str,
    folder: str,
    *,
    tags: list[str],
    on_status: Callable[[dict], None] | None = None,
) -> dict:
    """Back up ``folder``; restic's summary (``snapshot_id``, files, bytes). ``on_status``
    hears restic's progress (``files_done``, ``bytes_done``, ``total_files``,
    ``total_bytes``) a few times a second."""
    args = ["backup", "--json", "--host", "berth"]
    for tag in tags:
        args += ["--tag", tag]

    def heard(line: str) -> None:
        if on_status is None or '"status"' not in line:
            return
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            return
        if isinstance(message, dict) and message.get("message_type") == "status":
            on_status(message)

    output = run(location, password, *args, folder, on_line=heard)
    summaries = [o for o in json_lines(output) if o.get("message_type") == "summary"]
    if not summaries or not summaries[-1].get("snapshot_id"):
        raise ResticError("restic backup finished without reporting a snapshot.")
    return summaries[-1]


def check(location: str, password: str, *, read_data_subset: str = "") -> None:
    args = ["check"]
    if read_data_subset:
        args.append(f"--read-data-subset={read_data_subset}")
    run(location, password, *args)


def ls(location: str, password: str, snapshot_id: str) -> list[dict]:
    """The snapshot's files and folders (``path``, ``type``, ``size``)."""
    output = run(location, password, "ls", "--json", snapshot_id)
    return [o for o in json_lines(output) if o.get("struct_type") == "node"]


def restore(location: str, password: str, snapshot_id: str, target: str) -> None:
    run(location, password, "restore", snapshot_id, "--target", target)


def forget_keeping(location: str, password: str, *, tag: str, keep: list[str]) -> None:
    """Forget (and prune) the snapshots tagged ``tag`` that no ``keep`` option keeps
    (``--keep-last 3``, ``--keep-within 30d``, ...)."""
    # One group for all of them: each backup's staging folder differs, and restic's default
    # grouping by host and paths would make every snapshot the newest of its own group.
    run(location, password, "forget", "--tag", tag, "--group-by", "", *keep, "--prune")


def snapshot_ids(location: str, password: str, *, tag: str) -> set[str]:
    output = run(location, password, "snapshots", "--json", "--tag", tag)
    try:
        listed = json.loads(output or "[]")
    except json.JSONDecodeError as exc:
        raise ResticError("restic snapshots printed unreadable JSON.") from exc
    return {snapshot["short_id"] for snapshot in listed or []}


NO_REPOSITORY = ("unable to open config file", "Is there a repository at the following location")


def exists(location: str, password: str) -> bool:
    """Whether a repository is at ``location`` (a wrong password is an error, not False)."""
    try:
        run(location, password, "cat", "config")
    except ResticError as exc:
        if any(words in str(exc) for words in NO_REPOSITORY):
            return False
        raise
    return True


def snapshots(location: str, password: str, *ids: str, tag: str = "") -> list[dict]:
    """restic's snapshot records (``id``, ``short_id``, ``time``, ``paths``, ``tags``), oldest
    first; ``ids`` may name some (or ``latest``)."""
    args = ["snapshots", "--json"]
    if tag:
        args += ["--tag", tag]
    output = run(location, password, *args, *ids)
    try:
        return json.loads(output or "[]") or []
    except json.JSONDecodeError as exc:
        raise ResticError("restic snapshots printed unreadable JSON.") from exc


def forget(location: str, password: str, *snapshot_ids: str, prune: bool = False) -> None:
    run(location, password, "forget", *(["--prune"] if prune else []), *snapshot_ids)


def prune(location: str, password: str) -> None:
    run(location, password, "prune")


def stored_bytes(location: str, password: str) -> int:
    """Bytes the repository's data takes (``restic stats --mode raw-data``)."""
    output = run(location, password, "stats", "--mode", "raw-data", "--json")
    try:
        return int(json.loads(output)["total_size"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ResticError("restic stats printed unreadable JSON.") from exc


def dump_process(location: str, password: str, snapshot_id: str, path: str) -> subprocess.Popen:
    """``restic dump <snapshot> <path>`` started, its tar archive on the process's stdout (the
    caller reads it as it comes, and waits for the exit code)."""
    try:
        return subprocess.Popen(
            [settings.RESTIC_BINARY, "dump", snapshot_id, path],
            env=_env(location, password),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise ResticError(
            f"restic is not installed ({settings.RESTIC_BINARY!r} not found)."
        ) from exc
