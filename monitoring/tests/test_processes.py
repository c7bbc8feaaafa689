"""Supervised processes over the API: listed with their figures, restarted with a new pid,
audited; operators only."""

from __future__ import annotations

import sys
import time

import psutil
import pytest
from django.test import Client

from conftest import bearer_client
from controlpanel.supervision import Program, Supervisor
from monitoring import tasks
from teams.models import AuditEvent

pytestmark = pytest.mark.django_db

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def supervised(settings, tmp_path):
    settings.SUPERVISOR_DIR = tmp_path / "sv"
    supervisor = Supervisor(settings.SUPERVISOR_DIR)
    supervisor.write_config([Program(name="pool-a", command=SLEEPER, start_seconds=1)])
    supervisor.start()
    deadline = time.monotonic() + 30
    while not supervisor.process("pool-a").running and time.monotonic() < deadline:
        time.sleep(0.1)
    yield supervisor
    supervisor.shutdown()


def test_a_process_restarted_through_the_api_comes_back_with_a_new_pid(supervised, operator):
    client = bearer_client(operator)
    [listed] = client.get("/api/containers").json()["containers"]
    assert listed["id"] == "pool-a" and listed["state"] == "running"
    assert listed["memory"] > 0 and listed["uptime"] >= 0
    old_pid = listed["pid"]
    assert psutil.Process(old_pid).is_running()

    response = client.post("/api/containers/pool-a/restart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "restarted"
    assert body["container"]["state"] == "running" and body["container"]["pid"] != old_pid
    assert not psutil.pid_exists(old_pid)
    assert supervised.process("pool-a").pid == body["container"]["pid"]

    # One line in the audit log (teams.audit.audit_record), not a second one from the
    # audit middleware: who, from where, which process, the pids.
    [event] = AuditEvent.objects.all()
    assert event.action == "process.restart" and event.actor == operator
    assert (event.object_type, event.object_id, event.object_repr) == (
        "process",
        "pool-a",
        "pool-a",
    )
    assert event.team is None and event.ip_address == "127.0.0.1"
    assert event.details["old_pid"] == old_pid and event.details["ok"] is True
    assert event.details["new_pid"] == body["container"]["pid"]


def test_only_operators_restart_and_unknown_processes_are_not_found(supervised, alice, operator):
    pid = supervised.process("pool-a").pid
    assert bearer_client(alice).post("/api/containers/pool-a/restart").status_code == 403
    assert supervised.process("pool-a").pid == pid
    missing = bearer_client(operator).post("/api/containers/nope/restart")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "CONTAINER_NOT_FOUND"


def test_without_a_supervisor_the_list_is_empty(settings, tmp_path, operator):
    settings.SUPERVISOR_DIR = tmp_path / "none"
    assert bearer_client(operator).get("/api/containers").json() == {"containers": []}


def test_an_operator_restarts_a_process_from_the_operations_page(supervised, operator, alice):
    old_pid = supervised.process("pool-a").pid
    client = Client()
    client.force_login(alice)
    assert client.post("/operations/processes/pool-a/restart").status_code == 403
    assert supervised.process("pool-a").pid == old_pid
    client.force_login(operator)
    response = client.post("/operations/processes/pool-a/restart", follow=True)
    new_pid = supervised.process("pool-a").pid
    assert new_pid != old_pid and not psutil.pid_exists(old_pid)
    assert f"pool-a restarted (pid {new_pid})" in response.content.decode()
    [event] = AuditEvent.objects.all()
    assert event.action == "process.restart" and event.actor == operator
    assert event.details["new_pid"] == new_pid and event.ip_address == "127.0.0.1"


def test_a_restart_handed_to_a_worker_is_audited_too(supervised, operator):
    """The web server cannot wait for its own restart: a worker runs it, and records it."""
    old_pid = supervised.process("pool-a").pid
    tasks.restart_process("pool-a", operator.pk)
    new_pid = supervised.process("pool-a").pid
    assert new_pid != old_pid
    [event] = AuditEvent.objects.all()
    assert event.actor == operator and event.object_id == "pool-a" and event.ip_address is None
    assert (event.details["old_pid"], event.details["new_pid"]) == (old_pid, new_pid)
