"""Reads for the status page, its API and stream, and the operators' pages.

Uptime comes from the rollups only: a 90-day figure reads at most 90 daily rows per service.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, date, datetime, timedelta

import psutil
from django.core.cache import cache
from django.db.models import Avg, Count, F, Max, Q, Sum
from django.utils import timezone

from controlpanel.supervision import SupervisorError, default_supervisor
from deployments.models import Deployment
from monitoring.events import service_status
from monitoring.models import DailyRollup, Host, HostSample, Incident, Service, Status

HISTORY_DAYS = 90
METRICS_CACHE_SECONDS = 30
CPU_SAMPLE_SECONDS = 0.2  # processes' CPU is measured over this long


def _today() -> date:
    return timezone.now().astimezone(UTC).date()


UPTIMES_KEY = "monitoring:uptimes"
BARS_KEY = "monitoring:bars"


def uptimes(*, days: int = HISTORY_DAYS) -> dict[int, float | None]:
    """Service id -> percentage of checks over the last ``days`` days that were not down.
    Cached until the next check is recorded (every page view and stream client shares it)."""
    key = f"{UPTIMES_KEY}:{days}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    since = _today() - timedelta(days=days - 1)
    rows = (
        DailyRollup.objects.filter(day__gte=since)
        .values("service_id")
        .annotate(checks=Sum("checks"), down=Sum("down"))
    )
    result = {
        row["service_id"]: round(100 * (row["checks"] - row["down"]) / row["checks"], 2)
        for row in rows
        if row["checks"]
    }
    cache.set(key, result, METRICS_CACHE_SECONDS)
    return result


def status_services() -> list[dict]:
    """Every enabled service as the status page and its API show it."""
    uptime = uptimes()
    return [
        service_status(service, uptime.get(service.pk))
        for service in Service.objects.filter(enabled=True)
    ]


def overall_status(services: list[dict]) -> dict:
    states = {service["status"] for service in services if service["lastCheckedAt"]}
    if not states:
        status, message = Status.OPERATIONAL, "No checks have run yet"
    elif Status.DOWN in states:
        status, message = Status.DOWN, "Some systems are down"
    elif Status.DEGRADED in states:
        status, message = Status.DEGRADED, "Some systems are degraded"
    else:
        status, message = Status.OPERATIONAL, "All systems operational"
    return {"status": status, "message": message}


def _change(current: float, previous: float) -> float:
    if not previous:
        return 0.0
    return round(100 * (current - previous) / previous, 1)


def _window(start: datetime, end: datetime) -> dict:
    rows = Deployment.objects.filter(created_at__gte=start, created_at__lt=end)
    finished = rows.filter(status__in=Deployment.FINAL_STATUSES)
    totals = finished.aggregate(
        done=Count("pk"),
        ok=Count("pk", filter=Q(status=Deployment.Status.SUCCESS)),
        duration=Avg(
            F("finished_at") - F("created_at"),
            filter=Q(status=Deployment.Status.SUCCESS, finished_at__isnull=False),
        ),
    )
    return {
        "deployments": rows.count(),
        "projects": rows.values("site_id").distinct().count(),
        "success_rate": 100 * totals["ok"] / totals["done"] if totals["done"] else 0.0,
        "seconds": totals["duration"].total_seconds() if totals["duration"] else 0.0,
    }


def status_metrics() -> dict:
    """Platform figures over the last 30 days against the 30 before (the Autostack metrics)."""
    cached = cache.get("monitoring:metrics")
    if cached is not None:
        return cached
    now = timezone.now()
    current = _window(now - timedelta(days=30), now)
    previous = _window(now - timedelta(days=60), now - timedelta(days=30))
    metrics = {
        "totalDeployments": Deployment.objects.count(),
        "deploymentChange": _change(current["deployments"], previous["deployments"]),
        "activeProjects": current["projects"],
        "projectChange": _change(current["projects"], previous["projects"]),
        "avgDeployTime": f"{round(current['seconds'])}s",
        "timeChange": _change(current["seconds"], previous["seconds"]),
        "successRate": f"{current['success_rate']:.1f}%",
        "successChange": round(current["success_rate"] - previous["success_rate"], 1),
    }
    cache.set("monitoring:metrics", metrics, METRICS_CACHE_SECONDS)
    return metrics


def status_history(*, days: int = HISTORY_DAYS, service: Service | None = None) -> list[dict]:
    """One row per day, oldest first: uptime over all (or one) service, incidents started."""
    today = _today()
    since = today - timedelta(days=days - 1)
    rollups = DailyRollup.objects.filter(day__gte=since)
    incidents = Incident.objects.filter(started_at__date__gte=since)
    if service is not None:
        rollups = rollups.filter(service=service)
        incidents = incidents.filter(services=service)
    per_day = {
        row["day"]: row
        for row in rollups.values("day").annotate(
            checks=Sum("checks"), down=Sum("down"), degraded=Sum("degraded")
        )
    }
    started = {
        row["day"]: row["n"]
        for row in incidents.annotate(day=F("started_at__date"))
        .values("day")
        .annotate(n=Count("pk"))
    }
    history = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        row = per_day.get(day)
        uptime = (
            round(100 * (row["checks"] - row["down"]) / row["checks"], 2)
            if row and row["checks"]
            else None
        )
        history.append(
            {
                "date": day.isoformat(),
                "label": "today" if offset == 0 else f"{offset} day{'s' if offset > 1 else ''} ago",
                "uptime": uptime,
                "degraded": bool(row and row["degraded"]),
                "incidents": started.get(day, 0),
            }
        )
    return history


def service_history(*, days: int = HISTORY_DAYS) -> dict[int, list[dict]]:
    """Service id -> its last ``days`` daily rollups (the 90-day bars), one query; cached until
    the next check is recorded."""
    key = f"{BARS_KEY}:{days}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    since = _today() - timedelta(days=days - 1)
    bars: dict[int, list[dict]] = {}
    rows = DailyRollup.objects.filter(day__gte=since).order_by("day")
    for row in rows.values("service_id", "day", "checks", "down", "degraded"):
        uptime = (
            round(100 * (row["checks"] - row["down"]) / row["checks"], 3) if row["checks"] else None
        )
        bars.setdefault(row["service_id"], []).append(
            {
                "date": row["day"].isoformat(),
                "uptime": uptime,
                "down": row["down"],
                "degraded": row["degraded"],
            }
        )
    cache.set(key, bars, METRICS_CACHE_SECONDS)
    return bars


def incident_list(*, limit: int = 10, open_only: bool = False):
    rows = Incident.objects.prefetch_related("services", "updates")
    if open_only:
        rows = rows.filter(resolved_at__isnull=True)
    return list(rows[:limit])


def incident_get(*, pk: int) -> Incident:
    return Incident.objects.prefetch_related("services", "updates").get(pk=pk)


def server_stats() -> dict:
    """Cloud Haven's server statistics: the latest sample of every host, percentages."""
    stats: dict[str, list[dict]] = {"cpu": [], "memory": [], "disk": []}
    latest = (
        HostSample.objects.filter(host__in=Host.objects.all())
        .values("host_id")
        .annotate(last=Max("taken_at"))
    )
    wanted = Q()
    for row in latest:
        wanted |= Q(host_id=row["host_id"], taken_at=row["last"])
    if not latest:
        return stats
    for sample in HostSample.objects.filter(wanted).select_related("host").order_by("host__name"):
        for key in stats:
            stats[key].append({"server": sample.host.name, "usage": round(getattr(sample, key), 1)})
    return stats


def host_history(*, host: Host, hours: int = 24) -> list[HostSample]:
    since = timezone.now() - timedelta(hours=hours)
    return list(host.samples.filter(taken_at__gte=since).order_by("taken_at"))


def host_list() -> list[Host]:
    return list(Host.objects.all())


def process_names() -> set[str]:
    try:
        return {info.name for info in default_supervisor().processes()}
    except SupervisorError:
        return set()


def process_list() -> list[dict]:
    """Every supervised program with state, pid, uptime, CPU and memory (its whole process
    tree); empty when no supervisor runs here (the full stack runs its own)."""
    try:
        infos = default_supervisor().processes()
    except SupervisorError:
        return []
    now = timezone.now()
    families: dict[str, list[psutil.Process]] = {}
    for info in infos:
        try:
            leader = psutil.Process(info.pid) if info.pid else None
            families[info.name] = [leader, *leader.children(recursive=True)] if leader else []
            for proc in families[info.name]:
                proc.cpu_percent(interval=None)  # the first call starts the measurement
        except psutil.Error:
            families[info.name] = []
    time.sleep(CPU_SAMPLE_SECONDS)
    rows = []
    for info in infos:
        cpu = memory = 0.0
        for proc in families[info.name]:
            with contextlib.suppress(psutil.Error):
                cpu += proc.cpu_percent(interval=None)
                memory += proc.memory_info().rss
        rows.append(
            {
                "id": info.name,
                "name": info.name,
                "state": info.state,
                "pid": info.pid,
                "startedAt": info.started_at.isoformat() if info.started_at else None,
                "uptime": int((now - info.started_at).total_seconds()) if info.started_at else 0,
                "cpu": round(cpu, 1),
                "memory": memory,
                "description": info.description,
            }
        )
    return rows


def monitoring_summary() -> dict:
    """The operator's view: services, hosts, queues, processes, open and recent incidents."""
    services = status_services()
    stale = timezone.now() - timedelta(minutes=5)
    queued = Deployment.objects.filter(status=Deployment.Status.QUEUED)
    oldest = queued.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "overall": overall_status(services),
        "services": services,
        "servers": server_stats(),
        "hosts": [
            {
                "name": h.name,
                "roles": h.roles,
                "lastSeenAt": h.last_seen_at.isoformat(),
                "alive": h.last_seen_at >= stale,
            }
            for h in host_list()
        ],
        "queues": {
            "queuedDeployments": queued.count(),
            "building": Deployment.objects.filter(status=Deployment.Status.BUILDING).count(),
            "oldestQueuedSeconds": int((timezone.now() - oldest).total_seconds()) if oldest else 0,
        },
        "processes": process_list(),
        "incidents": incident_list(limit=5),
    }
