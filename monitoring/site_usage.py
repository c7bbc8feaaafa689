"""CPU time and memory per site, read with psutil from the processes Berth supervises for it.

A WordPress site's PHP pool (its php-fpm master and workers, a program of the supervisor) is
read every ``MONITORING_HEARTBEAT_INTERVAL`` seconds by a beat task: the pool's cumulative CPU
time (the master's, what it reaped of exited workers, and the live workers') and its resident
memory. Each reading adds the CPU used since the previous one to the site's row of the day
(``SiteUsageDay``). Builds record their own usage on the deployment (deployments/runner.py).
Where no supervisor runs (a worker host of the full stack), nothing is read.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

import psutil
from django.db import transaction
from django.utils import timezone

from controlpanel.supervision import SupervisorError, default_supervisor
from hosting.models import Site
from monitoring.models import SiteUsageDay
from wordpress.layout import SiteLayout


def family_reading(pid: int) -> tuple[float, int] | None:
    """(cumulative CPU seconds, resident bytes) of a process and its descendants; None when
    the process is gone."""
    try:
        leader = psutil.Process(pid)
        family = [leader, *leader.children(recursive=True)]
    except psutil.Error:
        return None
    cpu, memory = 0.0, 0
    for proc in family:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            cpu += times.user + times.system + times.children_user + times.children_system
            memory += proc.memory_info().rss
    return cpu, memory


def site_processes_sample(*, now: datetime | None = None) -> int:
    """Read every running PHP pool once and add the readings to their sites' rows of the day;
    returns the number of sites read."""
    now = now or timezone.now()
    try:
        running = {info.name: info.pid for info in default_supervisor().processes() if info.pid}
    except SupervisorError:
        return 0
    wordpress = Site.objects.filter(kind=Site.Kind.WORDPRESS).values_list("pk", flat=True)
    memory_total = psutil.virtual_memory().total
    read = 0
    for site_id in wordpress:
        pid = running.get(SiteLayout(site_id).program)
        reading = family_reading(pid) if pid else None
        if reading is None:
            continue
        site_usage_add(
            site_id=site_id, pid=pid, cpu=reading[0], memory=reading[1], memory_total=memory_total,
            now=now,
        )  # fmt: skip
        read += 1
    return read


def site_usage_add(
    *, site_id, pid: int, cpu: float, memory: int, memory_total: int, now: datetime
) -> SiteUsageDay:
    """Add one reading of a site's process (cumulative ``cpu`` seconds, ``memory`` bytes)."""
    day = timezone.localdate(now)
    with transaction.atomic():
        last = (
            SiteUsageDay.objects.select_for_update()
            .filter(site_id=site_id)
            .order_by("-day")
            .first()
        )
        same = last is not None and last.process_pid == pid and cpu >= last.process_cpu
        used = cpu - last.process_cpu if same else cpu  # a new process: all it used so far
        row = last if last is not None and last.day == day else SiteUsageDay(site_id=site_id)
        row.day = day
        row.cpu_seconds += used
        row.memory_peak = max(row.memory_peak, memory)
        row.memory_last = memory
        row.memory_total = memory_total
        row.sampled_at = now
        row.process_pid, row.process_cpu = pid, cpu
        row.save()
    return row
