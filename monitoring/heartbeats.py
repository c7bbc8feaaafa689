"""Host heartbeats: every Berth process that runs for long (each Celery worker, ``manage.py
serve``) records a psutil sample of its machine every ``MONITORING_HEARTBEAT_INTERVAL``.

A sample costs well under a millisecond of CPU (benchmarks/monitoring_collector.py).
"""

from __future__ import annotations

import logging
import shutil
import socket
import threading

import psutil
from django.conf import settings
from django.db import close_old_connections

from monitoring.services import heartbeat_record

log = logging.getLogger(__name__)


def host_name() -> str:
    return socket.gethostname()


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


class HeartbeatThread(threading.Thread):
    """Sends a heartbeat now and then every interval until ``stop()``."""

    def __init__(self, role: str, interval: float | None = None):
        super().__init__(name=f"berth-heartbeat-{role}", daemon=True)
        self.role = role
        self.interval = interval or settings.MONITORING_HEARTBEAT_INTERVAL
        self.stopped = threading.Event()

    def run(self) -> None:
        psutil.cpu_percent(interval=None)  # starts the CPU measurement
        failing = ""
        while True:
            try:
                beat(self.role)
                failing = ""
            except Exception as exc:  # the database may be away for a moment; try again later
                if str(exc) != failing:  # said once per distinct reason, not every interval
                    failing = str(exc)
                    log.warning("Heartbeat not recorded: %s", exc)
            finally:
                close_old_connections()
            if self.stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self.stopped.set()
