"""Heartbeats: real psutil samples of this machine, recorded by the thread every long-running
process runs (Celery workers, serve, and the full stack's gunicorn and daphne)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import free_port
from monitoring.heartbeats import HeartbeatThread, host_name, sample
from monitoring.models import Host, HostSample

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sample_measures_this_machine():
    taken = sample()
    assert 0 <= taken["cpu"] <= 100 and 0 < taken["memory"] < 100 and 0 < taken["disk"] <= 100
    assert taken["cpu_count"] >= 1 and taken["memory_total"] > 0 and taken["disk_total"] > 0


def test_the_heartbeat_thread_records_its_host_until_stopped():
    thread = HeartbeatThread("worker", interval=0.2)
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        host = Host.objects.filter(name=host_name()).first()
        if host and host.samples.count() >= 2:
            break
        time.sleep(0.1)
    thread.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert host.roles == ["worker"] and host.samples.count() >= 2


def _server(command: list[str], host: str, tmp_path: Path) -> subprocess.Popen:
    """A web server of the full stack, on the test database, with ``SERVER_HEARTBEATS`` on."""
    from deployments.tests.conftest import database_url

    env = {
        **os.environ,
        "BERTH_READ_DOTENV": "0",
        "DATABASE_URL": database_url(),
        "BERTH_VAR_DIR": str(tmp_path / "var"),  # shared by both, as the compose volume is
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SERVER_HEARTBEATS": "1",
        "MONITORING_HEARTBEAT_INTERVAL": "1",
        "MONITORING_HOST_NAME": host,  # each container has its own host name
    }
    log = (tmp_path / f"{host}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_until(predicate, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.mark.slow
def test_gunicorn_and_daphne_replicas_report_their_hosts(tmp_path):
    """The full stack's web (gunicorn, two workers) and ws (daphne) send heartbeats like the
    workers: each host appears with the web role and samples; gunicorn's workers share one
    sender, and when it dies another worker takes over."""
    web = _server(
        [
            "gunicorn",
            "controlpanel.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{free_port()}",
        ],
        "web-1",
        tmp_path,
    )
    ws = _server(
        ["daphne", "-b", "127.0.0.1", "-p", str(free_port()), "controlpanel.asgi:application"],
        "ws-1",
        tmp_path,
    )
    lock = str(tmp_path / "var" / "run" / "heartbeat-web-1-web.lock")

    def samples(name: str) -> int:
        for proc in (web, ws):
            if proc.poll() is not None:
                logs = {p.name: p.read_text() for p in tmp_path.glob("*.log")}
                raise AssertionError(f"a server exited: {logs}")
        return HostSample.objects.filter(host__name=name).count()

    def senders() -> list[psutil.Process]:
        workers = psutil.Process(web.pid).children()
        return [w for w in workers if lock in {f.path for f in w.open_files()}]

    try:
        _wait_until(lambda: samples("web-1") >= 3, "gunicorn's host reports")
        _wait_until(lambda: samples("ws-1") >= 3, "daphne's host reports")
        assert Host.objects.get(name="web-1").roles == ["web"]
        assert Host.objects.get(name="ws-1").roles == ["web"]
        latest = HostSample.objects.filter(host__name="web-1").first()
        assert 0 < latest.memory < 100 and 0 < latest.disk <= 100

        [sender] = _wait_until(lambda: len(senders()) == 1 and senders(), "one worker sends")
        assert len(psutil.Process(web.pid).children()) == 2  # the other one does not
        sender.kill()
        before = samples("web-1")
        _wait_until(
            lambda: (s := senders()) and s[0].pid != sender.pid, "another worker takes over"
        )
        _wait_until(lambda: samples("web-1") >= before + 2, "the host keeps reporting")
    finally:
        for proc in (web, ws):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (web, ws):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
