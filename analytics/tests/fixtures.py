"""A known history: deployments and traffic whose figures the tests work out by hand.

Days are offsets from the window's last day ``L`` (with a 7-day window: L-6 … L). Alice's team
has sites A and B; Bob's site C has plenty of history of its own that must never be counted.

| id | site | day  | time  | status    | build s | finished          |
|----|------|------|-------|-----------|---------|-------------------|
| d1 | A    | L-6  | 09:30 | success   | 60      | +60 s             |
| d2 | A    | L-5  | 10:15 | failed    | 30      | 10:16             |
| d3 | A    | L-5  | 11:00 | failed    | 40      | +40 s             |
| d4 | A    | L-5  | 12:16 | success   | 90      | 13:16             |
| d5 | A    | L-2  | 09:45 | cancelled | —       | —                 |
| d6 | A    | L    | 00:00 | success   | 120     | +120 s            |
| d7 | B    | L-2  | 14:20 | failed    | 20      | 14:21             |
| d8 | B    | L-1  | 14:21 | success   | 300     | 14:51             |
| d9 | B    | L    | 00:00 | building  | —       | —                 |
| p1 | A    | L-10 | 10:00 | success   | 100     | (previous window) |
| p2 | A    | L-9  | 10:00 | failed    | 50      | (previous window) |
| o1 | A    | L-45 | 10:00 | success   | 999     | (too old)         |

Bandwidth: A L-6 1,000 B / 10 requests; A L 500 B / 5; B L-3 3,000 B / 7; A L-20 99,999 B / 99
(outside the window); C L-4 777,777 B / 77 (Bob's).

Status codes (requests): A L-6 200 ×7, 304 ×2, 404 ×1; A L 200 ×4, 500 ×1; B L-3 200 ×5,
301 ×1, 404 ×1; A L-20 200 ×99; C L-4 200 ×77.
Top paths (requests, bytes): A L-6 "/" 6, 800 · "/about" 3, 200 · the others 1, 0;
A L "/" 3, 300 · "/about" 2, 200; B L-3 "/" 4, 2,000 · "/blog" 3, 1,000; A L-20 "/old" 99,
99,999; C L-4 "/charlie" 77, 777,777.

Builds' usage (CPU s, peak MiB): d1 50, 200; d4 80, 300; d8 250, 500; p1 999, 999 (previous
window); c1 1,000, 1,000 (Bob's). Site processes per day (CPU s, peak MiB, latest MiB, read
at): A L-6 100.5, 80, 60, 12:00; A L 20, 90, 70, 17:59; B L-3 30, 40, 40, 12:00; A L-20 500
(too old); C L 999, 100, 100, 17:59 (Bob's). The host has 8 GiB.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from deployments.models import Deployment
from hosting.models import Site, SiteBandwidth, SitePathDay, SiteStatusDay
from hosting.services import site_create
from monitoring.models import SiteUsageDay

S, F, C, B = "success", "failed", "cancelled", "building"
ROWS = [
    # name, site, day offset, "HH:MM", status, build seconds, finished after (s) or at "HH:MM"
    ("d1", "A", -6, "09:30", S, 60, 60),
    ("d2", "A", -5, "10:15", F, 30, "10:16"),
    ("d3", "A", -5, "11:00", F, 40, 40),
    ("d4", "A", -5, "12:16", S, 90, "13:16"),
    ("d5", "A", -2, "09:45", C, None, None),
    ("d6", "A", 0, "00:00", S, 120, 120),
    ("d7", "B", -2, "14:20", F, 20, "14:21"),
    ("d8", "B", -1, "14:21", S, 300, "14:51"),
    ("d9", "B", 0, "00:00", B, None, None),
    ("p1", "A", -10, "10:00", S, 100, 100),
    ("p2", "A", -9, "10:00", F, 50, 50),
    ("o1", "A", -45, "10:00", S, 999, 999),
]
BOB_ROWS = [("c1", "C", -4, "08:00", S, 1000, 1000), ("c2", "C", -3, "08:00", F, 5, 5)]
TRAFFIC = [("A", -6, 1000, 10), ("A", 0, 500, 5), ("B", -3, 3000, 7), ("A", -20, 99999, 99)]
BOB_TRAFFIC = [("C", -4, 777_777, 77)]
STATUSES = [
    ("A", -6, 200, 7),
    ("A", -6, 304, 2),
    ("A", -6, 404, 1),
    ("A", 0, 200, 4),
    ("A", 0, 500, 1),
    ("B", -3, 200, 5),
    ("B", -3, 301, 1),
    ("B", -3, 404, 1),
    ("A", -20, 200, 99),
    ("C", -4, 200, 77),
]
MIB = 2**20
HOST_MEMORY = 8 * 1024 * MIB
BUILD_USAGE = {
    "d1": (50.0, 200),
    "d4": (80.0, 300),
    "d8": (250.0, 500),
    "p1": (999.0, 999),
    "c1": (1000.0, 1000),
}
PROCESS_USAGE = [
    # site, day offset, CPU s, peak MiB, latest MiB, read at
    ("A", -6, 100.5, 80, 60, "12:00"),
    ("A", 0, 20.0, 90, 70, "17:59"),
    ("B", -3, 30.0, 40, 40, "12:00"),
    ("A", -20, 500.0, 10, 10, "12:00"),
    ("C", 0, 999.0, 100, 100, "17:59"),
]
PATHS = [
    ("A", -6, "/", 6, 800),
    ("A", -6, "/about", 3, 200),
    ("A", -6, "", 1, 0),
    ("A", 0, "/", 3, 300),
    ("A", 0, "/about", 2, 200),
    ("B", -3, "/", 4, 2000),
    ("B", -3, "/blog", 3, 1000),
    ("A", -20, "/old", 99, 99_999),
    ("C", -4, "/charlie", 77, 777_777),
]


@dataclass
class History:
    last_day: date
    team: object
    sites: dict[str, Site]
    deployments: dict[str, Deployment]


def at(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return timezone.make_aware(datetime.combine(day, time(hours, minutes)))


def _deploy(sites, last_day, row) -> Deployment:
    name, site, offset, clock, status, build, finished = row
    day = last_day + timedelta(days=offset)
    created = at(day, clock)
    if isinstance(finished, str):
        finished_at = at(day, finished)
    elif finished is not None:
        finished_at = created + timedelta(seconds=finished)
    else:
        finished_at = None
    return Deployment.objects.create(
        site=sites[site],
        source=Deployment.Source.GIT,
        status=status,
        created_at=created,
        started_at=created if status != C else None,
        finished_at=finished_at,
        build_duration=build,
        commit_message=name,
    )


def build_history(alice, bob, last_day: date) -> History:
    sites = {
        "A": site_create(owner=alice, name="Alpha"),
        "B": site_create(owner=alice, name="Beta"),
        "C": site_create(owner=bob, name="Charlie's"),
    }
    Site.objects.filter(pk=sites["A"].pk).update(
        storage_used=100, storage_limit=1000, bandwidth_limit=100_000
    )
    Site.objects.filter(pk=sites["B"].pk).update(
        storage_used=300, storage_limit=1000, bandwidth_limit=50_000
    )
    Site.objects.filter(pk=sites["C"].pk).update(storage_used=900, storage_limit=1000)
    deployments = {row[0]: _deploy(sites, last_day, row) for row in ROWS + BOB_ROWS}
    for site, offset, sent, requests in TRAFFIC + BOB_TRAFFIC:
        SiteBandwidth.objects.create(
            site=sites[site],
            day=last_day + timedelta(days=offset),
            bytes_sent=sent,
            requests=requests,
        )
    for site, offset, status, requests in STATUSES:
        SiteStatusDay.objects.create(
            site=sites[site],
            day=last_day + timedelta(days=offset),
            status=status,
            requests=requests,
        )
    for site, offset, path, requests, sent in PATHS:
        SitePathDay.objects.create(
            site=sites[site],
            day=last_day + timedelta(days=offset),
            path=path,
            requests=requests,
            bytes_sent=sent,
        )
    for name, (cpu, peak) in BUILD_USAGE.items():
        Deployment.objects.filter(pk=deployments[name].pk).update(
            build_cpu_seconds=cpu, build_memory_peak=peak * MIB
        )
    for site, offset, cpu, peak, latest, clock in PROCESS_USAGE:
        day = last_day + timedelta(days=offset)
        SiteUsageDay.objects.create(
            site=sites[site],
            day=day,
            cpu_seconds=cpu,
            memory_peak=peak * MIB,
            memory_last=latest * MIB,
            memory_total=HOST_MEMORY,
            sampled_at=at(day, clock),
        )
    return History(last_day, sites["A"].team, sites, deployments)
