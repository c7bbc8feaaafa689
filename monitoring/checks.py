"""The checks: one function per ``Service.Kind``, each answering status, time and a reason.

A check never raises: whatever goes wrong is the reason the service is down. A component that
answers but slowly (over ``MONITORING_DEGRADED_MS``) is degraded.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.files.storage import storages
from django.db import connections
from django.db.models import Avg, F
from django.utils import timezone

from controlpanel.supervision import SupervisorError, default_supervisor
from deployments.models import Deployment
from monitoring.models import Host, Service, Status

TIMEOUT = 5


@dataclass(frozen=True)
class Outcome:
    status: str
    response_time_ms: int | None
    message: str = ""


class Degraded(Exception):
    """The component answered, but not well."""


def _panel(target: dict) -> None:
    url = target.get("url") or f"{settings.PANEL_URL}/health"
    response = requests.get(url, timeout=TIMEOUT, allow_redirects=False)
    if response.status_code == 503:
        failing = response.json().get("failing", []) if response.content else []
        raise Degraded(f"/health reports: {', '.join(failing) or 'unavailable'}")
    response.raise_for_status()


def _database(target: dict) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis(target: dict) -> None:
    import redis  # loads where a Redis check runs, not in every process of the embedded default

    url = target.get("url") or settings.REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()


def _http(target: dict) -> None:
    headers = {"Host": target["host"]} if target.get("host") else {}
    response = requests.get(target["url"], headers=headers, timeout=TIMEOUT)
    expected = int(target.get("status", 200))
    if response.status_code != expected:
        raise RuntimeError(f"answered {response.status_code}, expected {expected}")
    needle = target.get("contains")
    if needle and needle not in response.text:
        raise Degraded(f"the page does not contain {needle!r}")


def _tcp(target: dict) -> None:
    with socket.create_connection((target["host"], int(target["port"])), timeout=TIMEOUT):
        pass


def _builds(target: dict) -> str:
    """Workers alive (a heartbeat within three intervals), queue short, deploys claimed soon."""
    now = timezone.now()
    stale = now - timedelta(seconds=3 * settings.MONITORING_HEARTBEAT_INTERVAL)
    workers = Host.objects.filter(last_seen_at__gte=stale).values_list("roles", flat=True)
    if not any("worker" in roles for roles in workers):
        raise RuntimeError("no build worker has sent a heartbeat")
    waiting = Deployment.objects.filter(status=Deployment.Status.QUEUED)
    oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
    claimed = Deployment.objects.filter(
        started_at__gte=now - timedelta(hours=1), started_at__isnull=False
    ).aggregate(wait=Avg(F("started_at") - F("created_at")))["wait"]
    summary = f"{waiting.count()} queued"
    if claimed is not None:
        summary += f"; queued to claimed {claimed.total_seconds():.1f} s on average (last hour)"
    limit = timedelta(seconds=settings.MONITORING_QUEUE_WAIT_DEGRADED)
    if oldest and now - oldest > limit:
        raise Degraded(f"{summary}; the oldest for {int((now - oldest).total_seconds())} s")
    if claimed is not None and claimed > limit:
        raise Degraded(summary)
    return summary


def _dns(target: dict) -> None:
    url = target.get("url") or f"{settings.PDNS_API_URL}/api/v1/servers/{settings.PDNS_SERVER_ID}"
    response = requests.get(url, headers={"X-API-Key": settings.PDNS_API_KEY}, timeout=TIMEOUT)
    response.raise_for_status()


def _s3(target: dict) -> None:
    storage = storages["blobs"]
    storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)


def _process(target: dict) -> None:
    info = default_supervisor().process(target["program"])
    if not info.running:
        raise RuntimeError(f"{target['program']} is {info.state}")


CHECKS: dict[str, Callable[[dict], str | None]] = {
    Service.Kind.PANEL: _panel,
    Service.Kind.DATABASE: _database,
    Service.Kind.REDIS: _redis,
    Service.Kind.SITES: _http,
    Service.Kind.BUILDS: _builds,
    Service.Kind.DNS: _dns,
    Service.Kind.S3: _s3,
    Service.Kind.HTTP: _http,
    Service.Kind.TCP: _tcp,
    Service.Kind.PROCESS: _process,
}


def run_check(service: Service) -> Outcome:
    """Check ``service`` once."""
    started = time.perf_counter()
    try:
        note = CHECKS[service.kind](service.target or {}) or ""
    except Degraded as exc:
        elapsed = round((time.perf_counter() - started) * 1000)
        return Outcome(Status.DEGRADED, elapsed, str(exc)[:300])
    except Exception as exc:  # every failure is the reason the service is down
        return Outcome(Status.DOWN, None, f"{type(exc).__name__}: {exc}"[:300])
    elapsed = round((time.perf_counter() - started) * 1000)
    if elapsed > settings.MONITORING_DEGRADED_MS:
        return Outcome(Status.DEGRADED, elapsed, f"slow: {elapsed} ms")
    return Outcome(Status.OPERATIONAL, elapsed, note[:300])


def _supervised_pools() -> list[str]:
    """php-fpm programs supervised on this host (one per WordPress pool)."""
    try:
        programs = default_supervisor().processes()
    except SupervisorError:
        return []
    return sorted(p.name for p in programs if p.name.startswith("php-fpm"))


def configured_services() -> list[dict]:
    """The services Berth's configuration asks for, in status-page order."""
    wanted = [
        {"slug": "panel", "name": "API Gateway", "kind": Service.Kind.PANEL},
        {"slug": "database", "name": "Database", "kind": Service.Kind.DATABASE},
    ]
    if settings.REDIS_URL:
        wanted.append({"slug": "redis", "name": "Redis", "kind": Service.Kind.REDIS})
    if settings.MONITORING_CANARY_URL:
        parts = urlsplit(settings.MONITORING_CANARY_URL)
        target = {"url": settings.MONITORING_CANARY_URL}
        if settings.MONITORING_CANARY_ADDRESS:  # reach the edge directly, naming the site
            target = {
                "url": parts._replace(netloc=settings.MONITORING_CANARY_ADDRESS).geturl(),
                "host": parts.netloc,
            }
        wanted.append(
            {"slug": "sites", "name": "CDN", "kind": Service.Kind.SITES, "target": target}
        )
    wanted.append({"slug": "builds", "name": "Build Service", "kind": Service.Kind.BUILDS})
    if settings.PDNS_API_URL:
        wanted.append({"slug": "dns", "name": "DNS", "kind": Service.Kind.DNS})
    if settings.S3_BUCKET:
        wanted.append({"slug": "storage", "name": "Object Storage", "kind": Service.Kind.S3})
    mariadb = urlsplit(getattr(settings, "MARIADB_URL", "") or "")
    if mariadb.hostname:  # the WordPress database server, when WordPress is configured
        target = {"host": mariadb.hostname, "port": mariadb.port or 3306}
        wanted.append(
            {"slug": "mariadb", "name": "MariaDB", "kind": Service.Kind.TCP, "target": target}
        )
    for program in _supervised_pools():
        wanted.append(
            {
                "slug": program[:50],
                "name": f"PHP ({program})",
                "kind": Service.Kind.PROCESS,
                "target": {"program": program},
            }
        )
    for position, entry in enumerate(wanted):
        entry.setdefault("target", {})
        entry["position"] = position * 10
    return wanted
