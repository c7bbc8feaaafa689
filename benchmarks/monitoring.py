"""Monitoring figures: storage over a simulated year, /status latency with 20 services × 90
days, the heartbeat collector's CPU, and how soon a state change reaches a stream client.

Run: python benchmarks/monitoring.py [--requests 200] [--only-year] [--days 365]
[--raw-interval 30] [--database-url postgres://...] (a throwaway SQLite database unless a
database is given; prints one block per figure).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

SERVICES = 20


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def make_services():
    from monitoring.models import Service

    return [
        Service.objects.create(slug=f"svc-{n}", name=f"Service {n}", kind=Service.Kind.TCP)
        for n in range(SERVICES)
    ]


def _outcome(day: int, k: int, n: int) -> tuple[str, int | None]:
    """A plausible check: mostly operational, a slow spell now and then, a rare failure."""
    mark = (day * 2880 + k * 7 + n * 13) % 10007
    if mark == 0:
        return "down", None
    if mark < 40:
        return "degraded", 2500 + mark
    return "operational", 20 + (k + n) % 80


class _Period:
    """The sums check_record keeps for one service over one hour or day."""

    def __init__(self):
        self.counts = {"operational": 0, "degraded": 0, "down": 0}
        self.ms_sum = self.ms_count = self.ms_max = 0

    def add(self, status: str, ms: int | None) -> None:
        self.counts[status] += 1
        if ms is not None:
            self.ms_sum += ms
            self.ms_count += 1
            self.ms_max = max(self.ms_max, ms)

    def row(self, model, service_id: int, **key):
        return model(
            service_id=service_id,
            checks=sum(self.counts.values()),
            **self.counts,
            response_time_sum_ms=self.ms_sum,
            response_time_count=self.ms_count,
            response_time_max_ms=self.ms_max,
            **key,
        )


def _size(connection) -> tuple[dict[str, int], int]:
    """Bytes of each monitoring table with its indexes, and of the whole database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM")  # what autovacuum does: dead rows become free space
            cursor.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind = 'r' AND relname LIKE 'monitoring_%%'"
            )
            sizes = dict(cursor.fetchall())
            cursor.execute("SELECT pg_database_size(current_database())")
            return sizes, cursor.fetchone()[0]
        # SQLite: pages in use per table and index; freed pages are reused, never returned.
        cursor.execute(
            "SELECT tbl_name, name FROM sqlite_master WHERE tbl_name LIKE 'monitoring_%'"
        )
        owner = {name: table for table, name in cursor.fetchall()}
        cursor.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
        sizes: dict[str, int] = {}
        for name, size in cursor.fetchall():
            if name in owner:
                sizes[owner[name]] = sizes.get(owner[name], 0) + size
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        return sizes, pages * cursor.fetchone()[0]


def storage(raw_interval: int, days: int, vacuum: bool = True) -> None:
    """``days`` (a year) of 20 services checked every ``raw_interval`` seconds: each simulated
    day's raw results are inserted in bulk with the hourly and daily rollup rows check_record
    would have summed them into, and the real ``rollups_prune`` runs at the day's end, as
    Celery beat runs it; then the monitoring tables are measured."""
    from django.db import connection, transaction

    from monitoring.models import CheckResult, DailyRollup, HourlyRollup, Service
    from monitoring.services import rollups_prune

    Service.objects.all().delete()
    services = make_services()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    per_day = 86400 // raw_interval
    insert = (
        "INSERT INTO monitoring_checkresult "
        "(service_id, checked_at, status, response_time_ms, message) VALUES (%s, %s, %s, %s, '')"
    )
    began = time.perf_counter()
    for day in range(days):
        day_start = start + timedelta(days=day)
        rows, hourly, daily = [], [], []
        for n, service in enumerate(services):
            hours: dict[datetime, _Period] = {}
            whole_day = _Period()
            for k in range(per_day):
                at = day_start + timedelta(seconds=k * raw_interval)
                status, ms = _outcome(day, k, n)
                rows.append((service.pk, at, status, ms))
                hours.setdefault(at.replace(minute=0, second=0), _Period()).add(status, ms)
                whole_day.add(status, ms)
            hourly += [p.row(HourlyRollup, service.pk, hour=h) for h, p in hours.items()]
            daily.append(whole_day.row(DailyRollup, service.pk, day=day_start.date()))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, rows)
            HourlyRollup.objects.bulk_create(hourly)
            DailyRollup.objects.bulk_create(daily)
        rollups_prune(now=day_start + timedelta(days=1))
        if vacuum and connection.vendor == "postgresql":
            # What autovacuum does in the background (this machine's cluster runs without it):
            # the space of pruned rows becomes free for the next day's rows.
            with connection.cursor() as cursor:
                cursor.execute(
                    "VACUUM monitoring_checkresult, monitoring_hourlyrollup, monitoring_dailyrollup"
                )
        if day % 30 == 29:
            print(f"  ... day {day + 1}: {time.perf_counter() - began:.0f} s", flush=True)
    simulated = time.perf_counter() - began
    sizes, database = _size(connection)
    total = sum(sizes.values())
    print(
        f"storage ({connection.vendor}): {SERVICES} services checked every {raw_interval} s for "
        f"{days} days ({days * per_day * SERVICES:,d} results; simulated in {simulated:.0f} s)"
    )
    print(f"  raw results   {CheckResult.objects.count():9,d} rows")
    print(f"  hourly rollup {HourlyRollup.objects.count():9,d} rows")
    print(f"  daily rollup  {DailyRollup.objects.count():9,d} rows")
    for name, size in sorted(sizes.items()):
        print(f"    {name:<32} {size / 2**20:7.2f} MiB")
    print(f"  monitoring tables and indexes: {total / 2**20:.1f} MiB")
    print(f"  whole database: {database / 2**20:.1f} MiB")


def status_latency(requests: int) -> None:
    from django.core.cache import cache
    from django.test import Client

    from monitoring.checks import Outcome
    from monitoring.models import Service
    from monitoring.services import check_record

    Service.objects.all().delete()
    services = make_services()
    now = datetime.now(UTC)
    for day in range(90):
        for service in services:
            check_record(
                service=service,
                outcome=Outcome("operational", 30, ""),
                now=now - timedelta(days=day),
            )
    client = Client()
    for path in ("/status", "/api/status/services", "/api/status/history"):
        client.get(path)
        times = []
        for n in range(requests):
            if n % 50 == 0:
                cache.clear()  # the public API's rate limit (100 a minute) would answer 429
            began = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        print(
            f"{path:<22} {SERVICES} services × 90 days: p50 {statistics.median(times):.1f} ms, "
            f"p95 {percentile(times, 95):.1f} ms ({requests} requests, in-process)"
        )


def collector(samples: int) -> None:
    from django.conf import settings

    from monitoring.heartbeats import beat, sample

    sample()
    began = time.process_time()
    for _ in range(samples):
        sample()
    per_sample = (time.process_time() - began) / samples
    began = time.process_time()
    for _ in range(50):
        beat("worker")
    per_beat = (time.process_time() - began) / 50
    interval = settings.MONITORING_HEARTBEAT_INTERVAL
    print(
        f"collector: a psutil sample costs {per_sample * 1000:.2f} ms CPU, a heartbeat with its "
        f"database writes {per_beat * 1000:.2f} ms: {100 * per_beat / interval:.3f}% of a core "
        f"at one per {interval} s"
    )


async def _stream_latency(rounds: int) -> list[float]:
    from channels.db import database_sync_to_async
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from monitoring.checks import Outcome
    from monitoring.models import Service
    from monitoring.routing import websocket_urlpatterns
    from monitoring.services import check_record

    service = await database_sync_to_async(Service.objects.get)(slug="svc-0")
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/api/status/stream")
    await comm.connect()
    while True:  # the snapshot: every service, then the metrics
        if (await comm.receive_json_from(timeout=30))["type"] == "metrics_update":
            break
    delays = []
    for n in range(rounds):
        status = "down" if n % 2 == 0 else "operational"
        began = time.perf_counter()
        await database_sync_to_async(check_record)(
            service=service, outcome=Outcome(status, None if status == "down" else 10, "")
        )
        while True:
            event = await comm.receive_json_from(timeout=10)
            if event.get("slug") == "svc-0" and event["status"] == status:
                break
        delays.append((time.perf_counter() - began) * 1000)
    await comm.disconnect()
    return delays


def stream(rounds: int) -> None:
    delays = asyncio.run(_stream_latency(rounds))
    print(
        f"stream: state change stored -> service_update at the client: p50 "
        f"{statistics.median(delays):.0f} ms, max {max(delays):.0f} ms ({rounds} changes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw-interval", type=int, default=30, help="seconds between checks")
    parser.add_argument("--days", type=int, default=365, help="days simulated for storage")
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="PostgreSQL: no VACUUM after each day's prune (a server without autovacuum)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="measure storage in this (empty, migrated on the way) database, e.g. PostgreSQL, "
        "instead of a throwaway SQLite one",
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-year", action="store_true")
    parser.add_argument("--only-year", action="store_true")
    args = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    _env.setup("monitoring", database_url=args.database_url)
    from django.conf import settings

    # Static URLs without a collected manifest (as in the tests): the page's own work is timed.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    print(f"load average {os.getloadavg()[0]:.1f}")
    if not args.only_year:
        collector(1000)
        status_latency(args.requests)
        stream(20)
    if not args.skip_year:
        storage(args.raw_interval, args.days, vacuum=not args.no_vacuum)


if __name__ == "__main__":
    main()
