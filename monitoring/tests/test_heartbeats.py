"""Heartbeats: real psutil samples of this machine, recorded by the thread every process runs."""

from __future__ import annotations

import time

import pytest

from monitoring.heartbeats import HeartbeatThread, host_name, sample
from monitoring.models import Host

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
