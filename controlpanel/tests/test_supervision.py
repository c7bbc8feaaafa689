"""Supervised processes: a real supervisord, configured, started and driven over its socket."""

from __future__ import annotations

import os
import signal
import stat
import sys
import time
import xmlrpc.client

import psutil
import pytest

from controlpanel.supervision import (
    Program,
    Supervisor,
    SupervisorError,
    _Transport,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_until(predicate, timeout: float = 30, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


@pytest.fixture
def supervisor(tmp_path):
    sv = Supervisor(tmp_path / "sv")
    sv.write_config([Program(name="sleeper", command=SLEEPER, start_seconds=1)])
    sv.start()
    yield sv
    sv.shutdown()


def running_pid(sv: Supervisor, name: str, other_than: int | None = None) -> int:
    def ready():
        info = sv.process(name)
        return info.pid if info.running and info.pid != other_than else None

    return wait_until(ready, what=f"{name} running")


def test_a_program_that_crashes_is_restarted_with_a_new_pid_and_the_exit_is_logged(supervisor):
    first = running_pid(supervisor, "sleeper")
    os.kill(first, signal.SIGKILL)
    second = running_pid(supervisor, "sleeper", other_than=first)
    assert second != first
    log = supervisor.log_path.read_text()
    assert "exited: sleeper (terminated by SIGKILL; not expected)" in log
    assert f"spawned: 'sleeper' with pid {second}" in log


def test_restart_program_answers_with_the_new_running_process(supervisor):
    first = running_pid(supervisor, "sleeper")
    info = supervisor.restart_program("sleeper")
    assert info.running and info.pid and info.pid != first
    assert not psutil.pid_exists(first)
    assert info.started_at is not None


def test_programs_are_added_and_removed_while_supervisord_runs(supervisor, tmp_path):
    marker = tmp_path / "started"
    program = Program(
        name="pool-1",
        command=["sh", "-c", f'echo "$GREETING $OTHER" > {marker}; exec sleep 600'],
        environment={"GREETING": 'hello, "100%" sure', "OTHER": "x=1 'y' z"},
        start_seconds=1,
    )
    info = supervisor.add_program(program)
    assert info.name == "pool-1"
    pid = running_pid(supervisor, "pool-1")
    assert marker.read_text().strip() == "hello, \"100%\" sure x=1 'y' z"
    assert {p.name for p in supervisor.processes()} == {"sleeper", "pool-1"}
    supervisor.remove_program("pool-1")
    assert {p.name for p in supervisor.processes()} == {"sleeper"}
    wait_until(lambda: not psutil.pid_exists(pid), what="the removed program's exit")
    assert not (supervisor.programs_dir / "pool-1.conf").exists()


def test_a_program_that_keeps_failing_to_start_backs_off_then_gives_up(supervisor):
    supervisor.add_program(
        Program(name="broken", command=["sh", "-c", "exit 3"], start_seconds=1, start_retries=2)
    )
    wait_until(lambda: supervisor.process("broken").state == "fatal", what="FATAL")
    log = supervisor.log_path.read_text()
    assert log.count("spawned: 'broken'") == 3  # the first start and two retries
    assert "gave up: broken entered FATAL state" in log


def test_the_socket_is_for_its_owner_and_needs_the_password(supervisor):
    mode = supervisor.socket_path.stat().st_mode
    assert stat.S_ISSOCK(mode) and mode & 0o077 == 0
    assert supervisor.credentials_path.stat().st_mode & 0o077 == 0
    assert supervisor.config_path.stat().st_mode & 0o077 == 0
    wrong = _Transport("berth", "not the password", str(supervisor.socket_path), 5)
    proxy = xmlrpc.client.ServerProxy("http://localhost", transport=wrong)
    with pytest.raises(xmlrpc.client.ProtocolError) as refused:
        proxy.supervisor.getAllProcessInfo()
    assert refused.value.errcode == 401


def test_shutdown_stops_every_program_and_what_it_started(tmp_path):
    sv = Supervisor(tmp_path / "sv")
    sv.write_config([Program(name="family", command=["sh", "-c", "sleep 600 & exec sleep 601"])])
    daemon = sv.start()
    pid = running_pid(sv, "family")
    children = psutil.Process(pid).children()
    assert children, "the program's background child"
    family = [pid, *(child.pid for child in children)]
    sv.shutdown()
    assert daemon.poll() is not None
    for member in family:
        assert not psutil.pid_exists(member) or psutil.Process(member).status() == "zombie"
    assert not sv.ping()


def test_a_second_supervisord_on_the_same_folder_is_refused(supervisor):
    other = Supervisor(supervisor.root)
    with pytest.raises(SupervisorError, match="already running"):
        other.start()


@pytest.mark.parametrize(
    ("name", "command"),
    [("Web", ["x"]), ("a b", ["x"]), ("ok", []), ("ok", ["echo", "line\nbreak"])],
)
def test_programs_refuse_unsafe_names_and_commands(tmp_path, name, command):
    with pytest.raises(ValueError):
        Program(name=name, command=command).render(tmp_path)


@pytest.mark.parametrize("value", ['"quoted"', 'it\'s "both"', "line\nbreak"])
def test_programs_refuse_environment_values_supervisord_would_change(tmp_path, value):
    with pytest.raises(ValueError):
        Program(name="ok", command=["x"], environment={"VALUE": value}).render(tmp_path)


def test_a_long_folder_gets_a_short_socket_path(tmp_path):
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    sv = Supervisor(deep)
    assert len(str(sv.socket_path)) < 108
    assert sv.socket_path == Supervisor(deep).socket_path
