"""Analytics endpoints over 10,000 deployments: latency of each (p50 / p95) for 90 days.

Run: python benchmarks/analytics.py [--deployments 10000] [--requests 50]
     [--database-url postgres://postgres@127.0.0.1:5432/berth_bench_analytics]
(default a throwaway SQLite database; a PostgreSQL database given is emptied first). Besides
the deployments: 90 days of traffic on each site (status codes, the 50 busiest paths) and of
its PHP pool's readings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

ENDPOINTS = (
    "metrics",
    "deployment-frequency",
    "success-rates",
    "build-durations",
    "resource-usage",
    "deployment-status",
    "hourly-deployments",
    "dora",
    "traffic",
)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def history(user, deployments: int, sites: int = 10) -> None:
    from django.utils import timezone

    from deployments.models import Deployment
    from hosting.models import SiteBandwidth, SitePathDay, SiteStatusDay
    from hosting.services import site_create
    from monitoring.models import SiteUsageDay

    made = [site_create(owner=user, name=f"Site {n}") for n in range(sites)]
    now = timezone.now()
    statuses = ["success"] * 4 + ["failed", "cancelled", "success"]  # 7: coprime with sites
    batch = []
    for n in range(deployments):
        created = now - timedelta(minutes=(n * 13) % (60 * 24 * 90))
        batch.append(
            Deployment(
                site=made[n % sites],
                source=Deployment.Source.GIT,
                status=statuses[n % len(statuses)],
                created_at=created,
                started_at=created,
                finished_at=created + timedelta(seconds=60 + n % 240),
                build_duration=60 + n % 240,
                build_cpu_seconds=50.0 + n % 200,
                build_memory_peak=2**27,
            )
        )
    Deployment.objects.bulk_create(batch, batch_size=2000)
    SiteBandwidth.objects.bulk_create(
        SiteBandwidth(
            site=site, day=now.date() - timedelta(days=d), bytes_sent=10_000 * d, requests=d
        )
        for site in made
        for d in range(90)
    )
    # What the servers keep per site and day: a few status codes, the 50 busiest paths and the
    # row for all others; and a day of PHP pool readings.
    days = [(site, now.date() - timedelta(days=d)) for site in made for d in range(90)]
    SiteStatusDay.objects.bulk_create(
        SiteStatusDay(site=site, day=day, status=status, requests=n + 1)
        for site, day in days
        for n, status in enumerate((200, 206, 301, 304, 404, 500))
    )
    SitePathDay.objects.bulk_create(
        (
            SitePathDay(site=site, day=day, path=f"/page/{n}", requests=100 - n, bytes_sent=n)
            for site, day in days
            for n in range(SitePathDay.TOP_PATHS)
        ),
        batch_size=5000,
    )
    SitePathDay.objects.bulk_create(
        SitePathDay(site=site, day=day, path=SitePathDay.OTHER, requests=7) for site, day in days
    )
    SiteUsageDay.objects.bulk_create(
        SiteUsageDay(site=site, day=day, cpu_seconds=60.0, memory_peak=2**26, memory_last=2**25)
        for site, day in days
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["RATE_LIMIT_GENERAL"] = "100000/min"  # the figure is latency, not the limit
    _env.setup("analytics", args.database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    user = _env.owner()
    history(user, args.deployments)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
    client = Client()
    client.force_login(user)
    print(f"analytics over {args.deployments} deployments, period=90 ({connection.vendor})")
    for name in ENDPOINTS:
        url = f"/api/analytics/{name}?period=90"
        assert client.get(url).status_code == 200  # warm
        times = []
        for _ in range(args.requests):
            began = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
        print(
            f"  {name:22} p50 {statistics.median(times):6.1f} ms"
            f"  p95 {percentile(times, 95):6.1f} ms"
        )


if __name__ == "__main__":
    main()
