"""Shared set-up of the build benchmarks: a throwaway Berth with a real worker (and daphne).

Embedded by default (SQLite and the filesystem broker under a temporary folder, in-memory
channel layer); with DATABASE_URL and REDIS_URL set, the full stack (use a database of its
own: the benchmark migrates it and adds a user).
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_PASSWORD = "benchmark password 1"  # noqa: S105 - a throwaway user in a throwaway database
WORKER = ["-m", "celery", "-A", "controlpanel", "worker", "--pool=threads", "--concurrency=2"]
sys.path.insert(0, str(ROOT))


def setup() -> str:
    var = tempfile.mkdtemp(prefix="berth-bench-")
    Path(var).chmod(0o711)  # the build sandbox's user must reach the build folder inside
    os.environ.update(
        BERTH_VAR_DIR=var,
        BERTH_READ_DOTENV="0",
        DJANGO_SETTINGS_MODULE="controlpanel.settings",
        RATE_LIMIT_DEPLOYMENTS="100000/hour",
        RATE_LIMIT_GENERAL="100000/min",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="localhost,127.0.0.1,testserver",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    mode = "PostgreSQL + Redis" if os.environ.get("REDIS_URL") else "embedded (SQLite, no Redis)"
    print(f"Mode: {mode}")
    return var


def user_and_token(email: str):
    from accounts.models import User
    from accounts.services import token_issue

    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=BENCH_PASSWORD, name="Bench"
    )
    return user, token_issue(user=user).access


def make_repo(root: Path, files: dict[str, str]) -> Path:
    sys.path.insert(0, str(ROOT))
    from deployments.tests.factories import make_repo as make

    return make(root, files)


class Process:
    def __init__(self, args: list[str], log: Path, ready):
        self.log = log
        self.proc = subprocess.Popen(
            args,
            cwd=log.parent,  # kombu's filesystem transport writes control files there
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not ready(self):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"{args[2]} did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def start_worker(var: str) -> Process:
    return Process(
        [sys.executable, *WORKER, "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        Path(var) / "worker.log",
        lambda p: " ready." in p.log.read_text(errors="replace"),
    )


ASGI_APP = "controlpanel.asgi:application"


def start_daphne(var: str, port: int = 0) -> tuple[Process, int]:
    return start_web(var, "daphne", port)


def start_web(var: str, server: str = "daphne", port: int = 0) -> tuple[Process, int]:
    """daphne, or uvicorn as ``manage.py serve`` runs it, serving the panel on ``port`` (a free
    one if 0)."""
    if not port:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]

    def listening(_):
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    if server == "uvicorn":
        args = ["uvicorn", "--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"]
        args += ["--ws", "websockets-sansio", "--log-level", "warning", ASGI_APP]
    else:
        args = ["daphne", "-b", "127.0.0.1", "-p", str(port), ASGI_APP]
    process = Process([sys.executable, "-m", *args], Path(var) / f"{server}.log", listening)
    return process, port


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(values: list[float], unit: str = "ms", scale: float = 1000) -> str:
    return (
        f"p50 {percentile(values, 50) * scale:.0f} {unit}, "
        f"p95 {percentile(values, 95) * scale:.0f} {unit}, "
        f"mean {statistics.mean(values) * scale:.0f} {unit}"
    )
