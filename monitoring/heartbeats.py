"""Host heartbeats: every Berth process that runs for long (each Celery worker, ``manage.py
serve``, and gunicorn and daphne with ``SERVER_HEARTBEATS``) records a psutil sample of its
machine every ``MONITORING_HEARTBEAT_INTERVAL``.

A web server runs several processes on one host (gunicorn's workers, daphne beside it): they
share the sending, so a host reports once per interval whatever its process count. The one that
holds a lock file sends; when it ends, another takes the lock at its next beat.

A sample costs well under a millisecond of CPU (benchmarks/monitoring.py).
"""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
import socket
import threading
from pathlib import Path
from typing import IO

import psutil
from django.conf import settings
from django.db import close_old_connections

from monitoring.services import heartbeat_record

log = logging.getLogger(__name__)


def host_name() -> str:
    return settings.MONITORING_HOST_NAME or socket.gethostname()


def sample() -> dict:
    """CPU (since the previous call), memory, disk of the var folder, and load."""
    memory = psutil.virtual_memory()
    disk = shutil.disk_usage(settings.VAR_DIR)
    return {
        "cpu": psutil.cpu_percent(interval=None),
        "memory": memory.percent,
        "disk": round(100 * disk.used / disk.total, 1) if disk.total else 0.0,
        "load1": psutil.getloadavg()[0],
        "cpu_count": psutil.cpu_count() or 1,
        "memory_total": memory.total,
        "disk_total": disk.total,
    }


def beat(role: str) -> None:
    heartbeat_record(name=host_name(), role=role, sample=sample())


def lock_path(role: str) -> Path:
    """The lock that elects one sender per host and role (the var folder may be shared by
    several hosts, so the host's name is part of it)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{host_name()}-{role}")
    return Path(settings.VAR_DIR) / "run" / f"heartbeat-{safe}.lock"


class HeartbeatThread(threading.Thread):
    """Sends a heartbeat now and then every interval until ``stop()``. With ``shared``, only
    while this process holds its host's lock for ``role``."""

    def __init__(self, role: str, interval: float | None = None, *, shared: bool = False):
        super().__init__(name=f"berth-heartbeat-{role}", daemon=True)
        self.role = role
        self.interval = interval or settings.MONITORING_HEARTBEAT_INTERVAL
        self.shared = shared
        self.stopped = threading.Event()
        self._lock: IO | None = None

    def holds_lock(self) -> bool:
        """Whether this process sends (taking the host's lock when it is free)."""
        if not self.shared or self._lock is not None:
            return True
        path = lock_path(self.role)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process of this host sends
            handle.close()
            return False
        self._lock = handle
        return True

    def run(self) -> None:
        psutil.cpu_percent(interval=None)  # starts the CPU measurement
        failing = ""
        while True:
            try:
                if self.holds_lock():
                    beat(self.role)
                failing = ""
            except Exception as exc:  # the database may be away for a moment; try again later
                if str(exc) != failing:  # said once per distinct reason, not every interval
                    failing = str(exc)
                    log.warning("Heartbeat not recorded: %s", exc)
            finally:
                close_old_connections()
            if self.stopped.wait(self.interval):
                break
        if self._lock is not None:
            self._lock.close()  # releases the lock: another process of this host takes over
            self._lock = None

    def stop(self) -> None:
        self.stopped.set()


_server_thread: HeartbeatThread | None = None


def start_server_heartbeats(role: str = "web") -> HeartbeatThread | None:
    """Called by the WSGI and ASGI entry points: with ``SERVER_HEARTBEATS`` on, this web server
    process takes part in its host's heartbeats (once per process)."""
    global _server_thread
    if not settings.SERVER_HEARTBEATS or _server_thread is not None:
        return _server_thread
    _server_thread = HeartbeatThread(role, shared=True)
    _server_thread.start()
    return _server_thread
