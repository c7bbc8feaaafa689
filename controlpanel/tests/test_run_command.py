"""The README's run command, for real: it sets itself up, serves the panel and starts the worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from conftest import free_port
from controlpanel.supervision import Supervisor, SupervisorError

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 180) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run command exited with {proc.returncode}")
        try:
            return requests.get(url, timeout=10)
        except (requests.ConnectionError, requests.Timeout):  # a busy machine's first request
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def serves_landing_page(port: int, proc: subprocess.Popen, timeout: float) -> requests.Response:
    """Once ``/health`` answers: it is 200 with the database up, and so is the landing page."""
    health = wait_for(f"http://127.0.0.1:{port}/health", proc)
    assert health.status_code == 200, health.text
    assert health.json()["components"]["database"]["status"] == "up"
    landing = requests.get(f"http://127.0.0.1:{port}/", timeout=timeout)
    assert landing.status_code == 200 and "Put your sites on the web" in landing.text
    return landing


def refused_websocket_status(url: str, origin: str) -> int:
    """The HTTP status with which the server refuses an anonymous WebSocket handshake."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    try:
        with connect(url, origin=origin, open_timeout=10):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_run_command_serves_landing_page_and_health(tmp_path, server):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        BERTH_VENV=sys.prefix,  # the virtualenv these tests run in
        BERTH_VAR_DIR=str(tmp_path / "var"),
        BERTH_READ_DOTENV="0",
        BERTH_NO_PROMPT="1",
        BERTH_ADMIN_EMAIL="ops@example.com",
        BERTH_ADMIN_PASSWORD="operator password 1",
        PORT=str(port),
        BERTH_ASGI_SERVER=server,
        PANEL_URL=f"http://localhost:{port}",
    )
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        landing = serves_landing_page(port, proc, timeout=5)
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', landing.text).group(1)
        css = requests.get(f"http://127.0.0.1:{port}{stylesheet}", timeout=5)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
        deadline = time.monotonic() + 60
        while "ready." not in (tmp_path / "run.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        output = (tmp_path / "run.log").read_text()
        assert "ready." in output, output[-3000:]  # the Celery worker came up
        assert "Created the operator account ops@example.com" in output
        assert (tmp_path / "var" / "berth.sqlite3").exists()
        assert f"Server: {server}" in output
        assert "DeprecationWarning" not in output  # a newcomer's first screen is clean
        # Static files stream to the ASGI server instead of being read whole (with a warning).
        assert "must consume synchronous iterators" not in output
        # WebSockets are served too: an anonymous connection is refused by the consumer.
        ws_url = f"ws://127.0.0.1:{port}/ws/notifications/"
        assert refused_websocket_status(ws_url, f"http://localhost:{port}") == 403
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0


def test_serve_on_a_fresh_var_folder_collects_static_and_asks_for_migrate(tmp_path):
    """Started without scripts/run.sh's set-up, serve collects the static files (pages would
    fail without their manifest) and says that `migrate` has not been run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(BERTH_VAR_DIR=str(tmp_path / "var"), BERTH_READ_DOTENV="0")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = ""
        for line in proc.stdout:
            output += line
            if "Berth is starting" in line:
                break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert "unapplied migration" in output and "python manage.py migrate" in output, output
    assert (tmp_path / "var" / "static" / "staticfiles.json").exists()


def test_serve_restarts_a_killed_worker_and_sigterm_stops_everything(tmp_path):
    """serve becomes supervisord, over the web server and a one-process worker (beat in a
    thread); a worker that dies comes back (new pid, the panel keeps answering, the restart is
    logged); SIGTERM then stops every process without errors."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(BERTH_VAR_DIR=str(tmp_path / "var"), BERTH_READ_DOTENV="0")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("w+")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    supervisor = Supervisor(tmp_path / "var" / "supervisor")

    def worker_running(other_than=None):
        def check():
            if proc.poll() is not None:
                raise AssertionError(f"serve exited: {log_path.read_text()[-3000:]}")
            try:
                info = supervisor.process("worker")
            except SupervisorError:
                return None
            return info if info.running and info.pid != other_than else None

        return check

    try:
        assert wait_for(f"http://127.0.0.1:{port}/health", proc).status_code == 200
        first = wait_until(worker_running(), "the worker runs", timeout=180)
        wait_until(lambda: "ready." in log_path.read_text(), "the worker is ready", timeout=120)
        assert "beat: Starting" in log_path.read_text()
        # Nothing of Django stays in the supervising process: serve is supervisord now, and
        # the worker is one process (no pool processes, no separate beat).
        assert "supervisord" in " ".join(psutil.Process(proc.pid).cmdline())
        assert psutil.Process(first.pid).children(recursive=True) == []

        os.kill(first.pid, signal.SIGKILL)
        second = wait_until(worker_running(other_than=first.pid), "a new worker", timeout=120)
        assert second.pid != first.pid
        assert proc.poll() is None
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
        output = log_path.read_text()
        assert "exited: worker (terminated by SIGKILL; not expected)" in output
        assert f"spawned: 'worker' with pid {second.pid}" in output

        everything = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(everything) == 3  # supervisord, web, worker
        stop_mark = len(log_path.read_text())
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    for process in everything:
        wait_until(lambda p=process: not p.is_running(), f"{process.pid} stops", timeout=10)
    after = log_path.read_text()[stop_mark:]
    assert "Traceback" not in after and "ERROR" not in after and "CRIT" not in after, after
    assert "SIGKILL" not in after, after  # each program stopped on its own


def test_a_program_outlives_no_supervisord_killed(tmp_path):
    """Even a supervisord killed outright (SIGKILL: no chance to stop its programs) leaves
    nothing running: its programs get SIGTERM from the kernel and end."""
    env = _serve_env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/health", proc).status_code == 200
        proc.kill()
        proc.wait()
        wait_until(lambda: not _started_by(tmp_path / "var"), "every program ends", 30)
    finally:
        for process in _started_by(tmp_path / "var"):
            process.kill()


def test_a_second_start_skips_preparing_until_something_changes(tmp_path):
    """scripts/run.sh prepares once (migrations, operator, static files); a restart goes
    straight to supervisord and serves again; a new database is prepared again."""
    env = _serve_env(tmp_path)
    port = free_port()
    env.update(
        BERTH_VENV=sys.prefix,
        BERTH_NO_PROMPT="1",
        BERTH_ADMIN_EMAIL="ops@example.com",
        BERTH_ADMIN_PASSWORD="operator password 1",
        PORT=str(port),
    )

    def run(name: str) -> str:
        log_path = tmp_path / f"{name}.log"
        proc = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            serves_landing_page(port, proc, timeout=10)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        os.kill(proc.pid, signal.SIGTERM)  # as Ctrl+C: the whole instance stops
        assert proc.wait(timeout=60) == 0
        wait_until(lambda: not _started_by(tmp_path / "var"), "every process ends", 15)
        return log_path.read_text()

    first = run("first")
    assert "Created the operator account ops@example.com" in first
    assert "Collected static files." in first
    second = run("second")
    assert "Berth is starting" in second
    assert "Created the operator account" not in second and "Collected static" not in second
    (tmp_path / "var" / "berth.sqlite3").unlink()
    third = run("third")  # a new database: migrated, with its operator account
    assert "Created the operator account ops@example.com" in third


def _serve_env(tmp_path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(BERTH_VAR_DIR=str(tmp_path / "var"), BERTH_READ_DOTENV="0", PYTHONUNBUFFERED="1")
    return env


def _started_by(var_dir) -> list[psutil.Process]:
    """Every process on this machine that a serve with ``var_dir`` started (they inherit its
    environment), wherever it sits in the process tree: orphans included."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("BERTH_VAR_DIR") == str(var_dir):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_a_signal_while_serve_starts_its_programs_stops_everything(tmp_path, how):
    """Ctrl+C (SIGINT to the terminal's process group) or SIGTERM arriving while supervisord
    (which serve became) is still starting the programs under it: it ends without error lines
    and leaves no process behind."""
    env = _serve_env(tmp_path)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    log_path = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(free_port()), "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: "spawned: 'worker'" in log_path.read_text(), "programs start", 180)
        assert "ready." not in log_path.read_text()  # the worker is still starting
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    except BaseException:
        for process in _started_by(tmp_path / "var"):
            process.kill()
        raise
    wait_until(lambda: not _started_by(tmp_path / "var"), "every started process ends", 15)
    output = log_path.read_text()
    assert "Traceback" not in output and "ERROR" not in output and "CRIT" not in output, output


def test_ctrl_c_while_serve_prepares_ends_it_quietly(tmp_path):
    """Ctrl+C during ``serve --prepare``'s migrations (before anything is started) ends the
    command quietly (the shell's 130), without a traceback or anything left running."""
    env = _serve_env(tmp_path)
    log_path = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--prepare", "--port", str(free_port())],
        cwd=ROOT,
        env={**env, "BERTH_NO_PROMPT": "1", "BERTH_ADMIN_EMAIL": "ops@example.com"},
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    database = tmp_path / "var" / "berth.sqlite3"
    try:
        wait_until(lambda: database.exists() or proc.poll() is not None, "migrate begins", 180)
        os.killpg(proc.pid, signal.SIGINT)
        # 130: interrupted while migrating; 0 (a fast machine): stopped just after.
        assert proc.wait(timeout=60) in (130, 0)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    output = log_path.read_text()
    assert "Traceback" not in output and "Berth is starting" not in output, output
    assert not _started_by(tmp_path / "var")


def wait_until(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")
