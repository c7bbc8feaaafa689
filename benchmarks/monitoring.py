"""Monitoring figures: storage over a simulated year, /status latency with 20 services × 90
days, the heartbeat collector's CPU, and how soon a state change reaches a stream client.

Run: python benchmarks/monitoring.py [--year-step-minutes 60] [--requests 200]
(a throwaway SQLite database; prints one block per figure).
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


def storage(step_minutes: int, raw_interval: int) -> None:
    """A year of checks every ``step_minutes`` through ``check_record`` with the daily prune,
    then the raw and hourly tables topped up to their steady state at the real check interval
    (raw: two days at one per ``raw_interval`` s; hourly: a row for every hour of 30 days)."""
    from django.db import connection, transaction

    from monitoring.checks import Outcome
    from monitoring.models import CheckResult, DailyRollup, HourlyRollup, Service
    from monitoring.services import check_record, rollups_prune

    Service.objects.all().delete()
    services = make_services()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for day in range(365):
        with transaction.atomic():
            for minute in range(0, 24 * 60, step_minutes):
                at = start + timedelta(days=day, minutes=minute)
                for n, service in enumerate(services):
                    status = "down" if (day * 7 + minute + n) % 997 == 0 else "operational"
                    ms = None if status == "down" else 20 + (minute + n) % 80
                    check_record(service=service, outcome=Outcome(status, ms, ""), now=at)
            rollups_prune(now=start + timedelta(days=day + 1))
    simulated = time.perf_counter() - began
    end = start + timedelta(days=365)
    # The raw table at its real rate: two days of checks every raw_interval seconds.
    CheckResult.objects.all().delete()
    rows = [
        CheckResult(
            service=s,
            checked_at=end - timedelta(seconds=k * raw_interval),
            status="operational",
            response_time_ms=40,
        )
        for s in services
        for k in range(2 * 86400 // raw_interval)
    ]
    CheckResult.objects.bulk_create(rows, batch_size=5000)
    per_hour = 3600 // raw_interval
    hours = [end - timedelta(hours=h) for h in range(1, 30 * 24 + 1)]
    HourlyRollup.objects.bulk_create(
        [
            HourlyRollup(
                service=s,
                hour=hour,
                checks=per_hour,
                operational=per_hour,
                response_time_sum_ms=40 * per_hour,
                response_time_count=per_hour,
                response_time_max_ms=90,
            )
            for s in services
            for hour in hours
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute(
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'monitoring_%' GROUP BY name"
        )
        sizes = dict(cursor.fetchall())
    total = sum(sizes.values())
    print(
        f"storage: {SERVICES} services, a simulated year (checks every {step_minutes} min, "
        f"pruned daily; {simulated:.0f} s), raw results at one per {raw_interval} s"
    )
    print(f"  raw results   {CheckResult.objects.count():8,d} rows")
    print(f"  hourly rollup {HourlyRollup.objects.count():8,d} rows")
    print(f"  daily rollup  {DailyRollup.objects.count():8,d} rows")
    print(f"  monitoring tables and indexes: {total / 2**20:.1f} MiB")


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
    parser.add_argument("--year-step-minutes", type=int, default=360)
    parser.add_argument("--raw-interval", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--skip-year", action="store_true")
    parser.add_argument("--only-year", action="store_true")
    args = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    _env.setup("monitoring")
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
        storage(args.year_step_minutes, args.raw_interval)


if __name__ == "__main__":
    main()
