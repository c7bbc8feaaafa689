"""A WordPress site's supervised PHP pool is read with psutil: its CPU time (workers that
exited included) and memory land in the site's row of the day, each reading adding only what
was used since the one before; a restarted pool starts counting again."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from controlpanel.supervision import Program, Supervisor
from monitoring.models import SiteUsageDay
from monitoring.services import site_processes_sample
from wordpress.layout import SiteLayout
from wordpress.tests.factories import wordpress_site_make

pytestmark = pytest.mark.django_db

MIB = 2**20
# A stand-in for php-fpm with the same shape: a master holding memory that starts a worker,
# which computes for a second of CPU and exits (the master reaps it), then waits for requests.
POOL = """
import os, sys, time
held = bytearray(64 * 2**20)
for offset in range(0, len(held), 4096):
    held[offset] = 1
worker = os.fork()
if worker == 0:
    while time.process_time() < 1.0:
        pass
    os._exit(0)
os.waitpid(worker, 0)
open(sys.argv[1], "a").write("served\\n")
time.sleep(600)
"""


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def pool(settings, tmp_path, alice):
    site = wordpress_site_make(owner=alice, name="Blog")
    settings.SUPERVISOR_DIR = tmp_path / "sv"
    marker = tmp_path / "served"
    supervisor = Supervisor(settings.SUPERVISOR_DIR)
    program = SiteLayout(site.pk).program
    script = tmp_path / "pool.py"
    script.write_text(POOL)
    command = [sys.executable, str(script), str(marker)]
    supervisor.write_config([Program(name=program, command=command, start_seconds=1)])
    supervisor.start()

    def served(times: int) -> None:
        wait_for(lambda: marker.exists() and marker.read_text().count("served") >= times)

    served(1)
    yield site, supervisor, program, served
    supervisor.shutdown()


def test_a_pool_is_read_and_each_reading_adds_what_was_used_since(pool, bob):
    site, supervisor, program, served = pool
    quiet = wordpress_site_make(owner=bob, name="Quiet")  # no pool running: nothing read
    now = timezone.now()
    assert site_processes_sample(now=now) == 1
    row = SiteUsageDay.objects.get(site=site)
    assert row.cpu_seconds >= 1.0  # the worker's second, reaped by the master
    assert row.memory_peak >= 64 * MIB and row.memory_last == row.memory_peak
    assert row.process_pid == supervisor.process(program).pid
    first = row.cpu_seconds
    assert not SiteUsageDay.objects.filter(site=quiet).exists()

    # The pool idles: a second reading adds almost nothing, to the same row.
    site_processes_sample(now=now + timedelta(seconds=30))
    row.refresh_from_db()
    assert first <= row.cpu_seconds < first + 0.5
    assert SiteUsageDay.objects.filter(site=site).count() == 1

    # Restarted, it is a new process: all it used (another worker's second) is added.
    supervisor.restart_program(program)
    served(2)
    site_processes_sample(now=now + timedelta(seconds=60))
    row.refresh_from_db()
    assert row.cpu_seconds >= first + 1.0
    assert row.process_pid == supervisor.process(program).pid


def test_readings_of_a_new_day_go_to_a_new_row(pool):
    site, *_ = pool
    today = timezone.now()
    site_processes_sample(now=today)
    site_processes_sample(now=today + timedelta(days=1))
    first, second = SiteUsageDay.objects.filter(site=site).order_by("day")
    assert first.cpu_seconds >= 1.0
    assert second.cpu_seconds < 0.5  # only what the idle pool used since the last reading
    assert second.day == first.day + timedelta(days=1)


def test_without_a_supervisor_nothing_is_read(settings, tmp_path, alice):
    wordpress_site_make(owner=alice, name="Blog")
    settings.SUPERVISOR_DIR = tmp_path / "none"
    assert site_processes_sample() == 0
    assert not SiteUsageDay.objects.exists()
