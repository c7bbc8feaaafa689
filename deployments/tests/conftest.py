"""Build fixtures: fast limits, a tmp build root, and a real Celery worker.

``worker`` is a ``celery -A controlpanel worker`` subprocess on the test database: against
Redis when REDIS_URL is set (CI), against the embedded filesystem broker otherwise (with the
SQLite test database on disk, see settings). Its tasks run in a thread pool,
as in ``manage.py serve`` and docker-compose.yml (without their beat thread: the tests call
the periodic tasks themselves).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from controlpanel.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = [sys.executable, "-m", "daphne", "-b", "127.0.0.1"]


@pytest.fixture(autouse=True)
def _build_settings(settings, tmp_path):
    # Not under tmp_path: pytest keeps that private (0700), out of reach of the sandbox's uid.
    root = Path(tempfile.mkdtemp(prefix="berth-build-"))
    root.chmod(0o711)
    settings.BUILD_ROOT = root / "builds"
    settings.BUILD_CACHE_ROOT = root / "cache"
    settings.BUILD_HEARTBEAT_INTERVAL = 0.5
    settings.BUILD_TIMEOUT = 60
    yield
    shutil.rmtree(root, ignore_errors=True)


def database_url() -> str:
    """The test database, for another process."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    assert "memory" not in str(db["NAME"]), "the SQLite test database must be a file"
    return f"sqlite:///{db['NAME']}"


class WorkerProcess:
    """A real Celery worker in a subprocess, sharing the test database, storage and broker."""

    def __init__(
        self, tmp_path: Path, settings, extra_env: dict | None = None, *, beat: bool = False
    ):
        self.log = tmp_path / "worker.log"
        env = {
            **os.environ,
            "BERTH_READ_DOTENV": "0",
            "DATABASE_URL": database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SITES_PORT": str(settings.SITES_PORT),
            "BUILD_ROOT": str(settings.BUILD_ROOT),
            "BUILD_CACHE_ROOT": str(settings.BUILD_CACHE_ROOT),
            "BUILD_TIMEOUT": str(settings.BUILD_TIMEOUT),
            "BUILD_HEARTBEAT_INTERVAL": str(settings.BUILD_HEARTBEAT_INTERVAL),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
            "CELERY_SKIP_CHECKS": "1",  # as serve and docker-compose.yml start theirs
            **(extra_env or {}),
        }
        # Its own working directory: kombu's filesystem transport writes control files there.
        cwd = tmp_path / "worker"
        cwd.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "controlpanel",
                "worker",
                "--pool=threads",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=test-{os.getpid()}@%h",
                "--loglevel=INFO",
                *(["--beat-thread", "-s", str(cwd / "beat-schedule")] if beat else []),
            ],
            cwd=cwd,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while " ready." not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The Celery worker did not start:\n{self.output()}")
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once (a crash, an OOM kill)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _purge_broker() -> None:
    if celery_app.conf.broker_url.startswith("filesystem"):
        queue = Path(celery_app.conf.broker_transport_options["data_folder_in"])
        for stale in queue.glob("*"):
            stale.unlink(missing_ok=True)
        return
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


@pytest.fixture
def worker(transactional_db, settings, tmp_path):
    """A real Celery worker subprocess running the pipeline (see the module docstring)."""
    _purge_broker()
    process = WorkerProcess(tmp_path, settings)
    yield process
    process.stop()


worker_process = worker


class DaphneServer:
    """The panel under a real daphne (HTTP + WebSockets) on the test database."""

    def __init__(self, tmp_path: Path, settings, extra_env: dict | None = None):
        from conftest import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Sites are served by this daphne too, at http://<slug>.localhost:<port>/.
        settings.SITES_PORT = self.port
        env = {
            **os.environ,
            "BERTH_READ_DOTENV": "0",
            "DATABASE_URL": database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SITES_PORT": str(self.port),
            "DEBUG": "1",  # static files from the source tree, no collectstatic
            "WHITENOISE_USE_FINDERS": "1",
            **(extra_env or {}),
        }
        self.log = tmp_path / "daphne.log"
        self.proc = subprocess.Popen(
            [*DAPHNE, "-p", str(self.port), "controlpanel.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._listening, timeout=30)

    def _listening(self) -> bool:
        import socket

        if self.proc.poll() is not None:
            raise RuntimeError(self.log.read_text(errors="replace"))
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def daphne(transactional_db, settings, tmp_path):
    server = DaphneServer(tmp_path, settings)
    yield server
    server.stop()


def wait_for(predicate, timeout: float = 60, interval: float = 0.1):
    """Poll until ``predicate()`` is truthy; returns its value (fails the test on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout}s waiting for {predicate}")
