"""A team's deploy and traffic history, computed by the database.

Every figure is one aggregate query (grouped by day, week or hour with the database's date
truncation), so the number of queries a page or an endpoint makes does not grow with the number
of deployments. A ``Scope`` says whose history (a team, optionally one of its sites) and over
which window (the last 7, 30 or 90 days, today included, in the panel's time zone).

Definitions (docs/analytics.md):
- success rate and change failure rate count finished builds only: success ÷ (success + failed);
  a cancelled deployment is neither.
- build durations are the builder's own figure (``Deployment.build_duration``, seconds); uploads,
  editor publishes and rollbacks have none.
- time to restore: from a failed deployment that follows a success (or starts a site's
  history) to the next successful deployment of the same site, averaged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractHour, TruncDate, TruncWeek
from django.utils import timezone

from deployments.models import Deployment, Project
from hosting.models import Site, SiteBandwidth, SitePathDay, SiteStatusDay
from monitoring.models import SiteUsageDay

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
SUCCESS, FAILED, CANCELLED = (
    Deployment.Status.SUCCESS,
    Deployment.Status.FAILED,
    Deployment.Status.CANCELLED,
)


class ScopeError(ValueError):
    """A filter names no site or project of the team (``field`` says which)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Scope:
    team: object
    days: int = DEFAULT_PERIOD
    site: Site | None = None
    now: datetime | None = None

    @property
    def end(self) -> datetime:
        return self.now or timezone.now()

    @property
    def first_day(self) -> date:
        return timezone.localdate(self.end) - timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        """Midnight of the window's first day."""
        return timezone.make_aware(datetime.combine(self.first_day, time.min))

    @property
    def previous_start(self) -> datetime:
        return self.start - timedelta(days=self.days)

    def day_list(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.days)]


def scope_for(*, team, days: int = DEFAULT_PERIOD, site_id=None, project_id=None, now=None):
    """The scope of a request's filters; raises ScopeError for another team's site or project."""
    site = None
    if project_id is not None:
        project = Project.objects.for_team(team).select_related("site").filter(pk=project_id)
        project = project.first()
        if project is None:
            raise ScopeError("project", "No project with that id in this team.")
        site = project.site
    if site_id is not None:
        chosen = Site.objects.for_team(team).filter(pk=site_id).first()
        if chosen is None:
            raise ScopeError("site", "No site with that id in this team.")
        if site is not None and site.pk != chosen.pk:
            raise ScopeError("site", "That site is not the project's site.")
        site = chosen
    return Scope(team=team, days=days, site=site, now=now)


def _deployments(scope: Scope, since: datetime | None = None):
    queryset = Deployment.objects.for_team(scope.team).filter(
        created_at__gte=since or scope.start, created_at__lte=scope.end
    )
    if scope.site is not None:
        queryset = queryset.filter(site=scope.site)
    return queryset


def _sites(scope: Scope):
    sites = Site.objects.for_team(scope.team)
    return sites.filter(pk=scope.site.pk) if scope.site is not None else sites


def _change(current, previous) -> float | None:
    """Relative change in percent; None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    return round((current - previous) / previous * 100, 1)


def _rate(success: int, failed: int) -> float | None:
    finished = success + failed
    return round(success / finished * 100, 1) if finished else None


def duration_words(seconds: float | None) -> str:
    """``128`` -> ``"2m 8s"`` (the Autostack client's spelling); ``"—"`` when unknown."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {rest}s" if minutes else f"{rest}s"


def metrics(scope: Scope) -> dict:
    """The key figures of the window, each with its change against the window before."""
    now, before = Q(created_at__gte=scope.start), Q(created_at__lt=scope.start)
    figures = _deployments(scope, since=scope.previous_start).aggregate(
        total=Count("pk", filter=now),
        total_before=Count("pk", filter=before),
        success=Count("pk", filter=now & Q(status=SUCCESS)),
        failed=Count("pk", filter=now & Q(status=FAILED)),
        success_before=Count("pk", filter=before & Q(status=SUCCESS)),
        failed_before=Count("pk", filter=before & Q(status=FAILED)),
        build=Avg("build_duration", filter=now),
        build_before=Avg("build_duration", filter=before),
        active=Count("site", distinct=True, filter=now),
        active_before=Count("site", distinct=True, filter=before),
    )
    rate = _rate(figures["success"], figures["failed"])
    rate_before = _rate(figures["success_before"], figures["failed_before"])
    return {
        "total_deployments": figures["total"],
        "deployments_change": _change(figures["total"], figures["total_before"]),
        "success_rate": rate,
        # Percentage points: a rate's change is read as a difference, not a ratio.
        "success_change": (
            round(rate - rate_before, 1) if rate is not None and rate_before is not None else None
        ),
        "avg_build_seconds": round(figures["build"], 1) if figures["build"] is not None else None,
        "avg_build_time": duration_words(figures["build"]),
        "build_time_change": _change(figures["build"], figures["build_before"]),
        "active_projects": figures["active"],
        "projects_change": _change(figures["active"], figures["active_before"]),
    }


def deployment_frequency(scope: Scope) -> list[dict]:
    """Deployments started per day of the window (days without any included)."""
    rows = (
        _deployments(scope)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(total=Count("pk"), success=Count("pk", filter=Q(status=SUCCESS)))
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    return [
        {
            "day": day,
            "deployments": by_day.get(day, {}).get("total", 0),
            "successful": by_day.get(day, {}).get("success", 0),
        }
        for day in scope.day_list()
    ]


def success_rates(scope: Scope) -> list[dict]:
    """Per week (weeks start on Monday): the share of finished builds that succeeded and
    failed, in percent."""
    rows = (
        _deployments(scope)
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(
            success=Count("pk", filter=Q(status=SUCCESS)),
            failed=Count("pk", filter=Q(status=FAILED)),
        )
        .order_by()
    )
    by_week = {timezone.localtime(row["week"]).date(): row for row in rows}
    first = scope.first_day - timedelta(days=scope.first_day.weekday())
    weeks, week = [], first
    while week <= scope.day_list()[-1]:
        weeks.append(week)
        week += timedelta(days=7)
    result = []
    for number, week in enumerate(weeks, start=1):
        row = by_week.get(week, {"success": 0, "failed": 0})
        finished = row["success"] + row["failed"]
        success = round(row["success"] / finished * 100, 1) if finished else 0.0
        result.append(
            {
                "label": f"Week {number}",
                "week_start": week,
                "success": success,
                "failed": round(100 - success, 1) if finished else 0.0,
                "builds": finished,
            }
        )
    return result


class Percentile(Aggregate):
    """PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY x)`` (linear interpolation)."""

    function = "PERCENTILE_CONT"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont over sorted ``values``, for databases without it (SQLite)."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def build_summary(scope: Scope) -> dict:
    """Fastest, average, slowest, median (p50) and p95 build of the window, in seconds."""
    builds = _deployments(scope).filter(build_duration__isnull=False)
    if connection.vendor == "postgresql":
        figures = builds.aggregate(
            count=Count("pk"),
            fastest=Min("build_duration"),
            average=Avg("build_duration"),
            slowest=Max("build_duration"),
            p50=Percentile("build_duration", 0.5),
            p95=Percentile("build_duration", 0.95),
        )
    else:
        values = sorted(float(v) for v in builds.values_list("build_duration", flat=True))
        figures = {
            "count": len(values),
            "fastest": values[0] if values else None,
            "average": sum(values) / len(values) if values else None,
            "slowest": values[-1] if values else None,
            "p50": _percentile(values, 0.5),
            "p95": _percentile(values, 0.95),
        }
    return {
        key: (round(float(value), 1) if value is not None and key != "count" else value)
        for key, value in figures.items()
    }


def build_durations(scope: Scope) -> list[dict]:
    """Average, shortest and longest build per day with builds, in seconds."""
    rows = (
        _deployments(scope)
        .filter(build_duration__isnull=False)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            average=Avg("build_duration"),
            shortest=Min("build_duration"),
            longest=Max("build_duration"),
            builds=Count("pk"),
        )
        .order_by("day")
    )
    return [
        {
            "day": row["day"],
            "avg_duration": round(row["average"]),
            "min_duration": row["shortest"],
            "max_duration": row["longest"],
            "builds": row["builds"],
        }
        for row in rows
    ]


def deployment_status(scope: Scope) -> list[dict]:
    """How the window's deployments ended (and how many are still running)."""
    figures = _deployments(scope).aggregate(
        success=Count("pk", filter=Q(status=SUCCESS)),
        failed=Count("pk", filter=Q(status=FAILED)),
        cancelled=Count("pk", filter=Q(status=CANCELLED)),
        running=Count("pk", filter=~Q(status__in=Deployment.FINAL_STATUSES)),
    )
    rows = [
        {"name": "Success", "value": figures["success"]},
        {"name": "Failed", "value": figures["failed"]},
        {"name": "Cancelled", "value": figures["cancelled"]},
    ]
    if figures["running"]:
        rows.append({"name": "In progress", "value": figures["running"]})
    return rows


def hourly_deployments(scope: Scope) -> list[dict]:
    """Deployments started in each hour of the day (panel time zone), all 24 hours."""
    rows = (
        _deployments(scope)
        .annotate(hour=ExtractHour("created_at"))
        .values("hour")
        .annotate(total=Count("pk"))
        .order_by()
    )
    by_hour = {row["hour"]: row["total"] for row in rows}
    return [{"hour": f"{hour:02d}:00", "deployments": by_hour.get(hour, 0)} for hour in range(24)]


def _month_start(scope: Scope) -> date:
    return timezone.localdate(scope.end).replace(day=1)


# A site's processes count as running now when read within this many heartbeat intervals.
FRESH_READINGS = 3


def _process_days(scope: Scope):
    rows = SiteUsageDay.objects.filter(site__team=scope.team)
    return rows.filter(site=scope.site) if scope.site is not None else rows


def memory_now(scope: Scope) -> dict:
    """Per site whose processes run now (read recently): (bytes they hold, the host's bytes),
    from its latest reading. A site read just before and after midnight has two recent rows:
    the later day's is its latest."""
    since = scope.end - timedelta(seconds=FRESH_READINGS * settings.MONITORING_HEARTBEAT_INTERVAL)
    rows = (
        _process_days(scope)
        .filter(day__gte=timezone.localdate(since) - timedelta(days=1), sampled_at__gte=since)
        .order_by("site_id", "-day")
        .values_list("site_id", "memory_last", "memory_total")
    )
    latest: dict = {}
    for site_id, memory, total in rows:
        latest.setdefault(site_id, (memory, total))
    return latest


def resources(scope: Scope) -> dict:
    """What the team uses (``rows``): CPU time of its sites' processes (PHP pools) and builds
    over the window, against one CPU core's time over it; the memory its sites' processes hold
    now, against the host's; storage now and bandwidth this month, against the sites' limits.
    And per site (``sites``, those that used any): CPU time of its processes and builds, the
    memory its processes hold now and the most they held, its builds' largest peak."""
    today = timezone.localdate(scope.end)
    in_window = Q(day__gte=scope.first_day, day__lte=today)
    limits = _sites(scope).aggregate(
        storage_used=Coalesce(Sum("storage_used"), 0),
        storage_limit=Coalesce(Sum("storage_limit"), 0),
        bandwidth_limit=Coalesce(Sum("bandwidth_limit"), 0),
    )
    served = _bandwidth(scope).filter(day__gte=_month_start(scope), day__lte=today)
    month_bytes = served.aggregate(total=Coalesce(Sum("bytes_sent"), 0))["total"]
    running = memory_now(scope)
    processes = {
        row["site_id"]: row
        for row in _process_days(scope)
        .filter(in_window)
        .values("site_id")
        .annotate(cpu=Sum("cpu_seconds"), peak=Max("memory_peak"))
        .order_by()
    }
    builds = {
        row["site_id"]: row
        for row in _deployments(scope)
        .filter(build_cpu_seconds__isnull=False)
        .values("site_id")
        .annotate(cpu=Sum("build_cpu_seconds"), peak=Max("build_memory_peak"), builds=Count("pk"))
        .order_by()
    }
    used = set(processes) | set(builds) | set(running)
    names = dict(_sites(scope).filter(pk__in=used).values_list("pk", "name")) if used else {}
    sites = []
    for site_id in sorted(used, key=lambda pk: (names.get(pk, ""), str(pk))):
        own, built = processes.get(site_id, {}), builds.get(site_id, {})
        sites.append(
            {
                "site_id": site_id,
                "name": names.get(site_id, ""),
                "process_cpu_seconds": round(own.get("cpu") or 0.0, 1),
                "memory": running.get(site_id, (0, 0))[0],
                "memory_peak": own.get("peak") or 0,
                "build_cpu_seconds": round(built.get("cpu") or 0.0, 1),
                "build_memory_peak": built.get("peak") or 0,
                "builds": built.get("builds", 0),
            }
        )
    cpu = sum((row.get("cpu") or 0.0) for row in [*processes.values(), *builds.values()])
    window = round((scope.end - scope.start).total_seconds())

    def row(name: str, used, total, unit: str = "bytes") -> dict:
        value = round(min(used / total * 100, 100), 1) if total else 0.0
        return {"name": name, "value": value, "used": used, "total": total, "unit": unit}

    return {
        "rows": [
            row("CPU", round(cpu, 1), window, unit="cpu-seconds"),
            row(
                "Memory",
                sum(held for held, _ in running.values()),
                max((total for _, total in running.values()), default=0),
            ),
            row("Storage", limits["storage_used"], limits["storage_limit"]),
            row("Network", month_bytes, limits["bandwidth_limit"]),
        ],
        "sites": sites,
    }


def resource_usage(scope: Scope) -> list[dict]:
    """The team's rows of ``resources``."""
    return resources(scope)["rows"]


def resource_sites(scope: Scope) -> list[dict]:
    """The per-site rows of ``resources``."""
    return resources(scope)["sites"]


def _bandwidth(scope: Scope):
    rows = SiteBandwidth.objects.filter(site__team=scope.team)
    if scope.site is not None:
        rows = rows.filter(site=scope.site)
    return rows


def dora(scope: Scope) -> dict:
    """The four DORA figures of the window."""
    figures = _deployments(scope).aggregate(
        success=Count("pk", filter=Q(status=SUCCESS)),
        failed=Count("pk", filter=Q(status=FAILED)),
    )
    finished = figures["success"] + figures["failed"]
    restore = time_to_restore(scope)
    builds = build_summary(scope)
    return {
        "deploys_per_day": round(figures["success"] / scope.days, 2),
        "deploys_per_week": round(figures["success"] / scope.days * 7, 2),
        "successful_deploys": figures["success"],
        "change_failure_rate": (round(figures["failed"] / finished * 100, 1) if finished else None),
        "failed_deploys": figures["failed"],
        "time_to_restore_seconds": restore["average"],
        "restores": restore["count"],
        "build_p50_seconds": builds["p50"],
        "build_p95_seconds": builds["p95"],
    }


def time_to_restore(scope: Scope) -> dict:
    """Average seconds from a failure (one following a success, or a site's first deployment)
    to the site's next successful deployment, over the failures of the window that were
    followed by one."""
    same_site = Deployment.objects.filter(site=OuterRef("site"))
    previous = (
        same_site.filter(status__in=(SUCCESS, FAILED), created_at__lt=OuterRef("created_at"))
        .order_by("-created_at")
        .values("status")[:1]
    )
    restored = (
        same_site.filter(status=SUCCESS, created_at__gt=OuterRef("created_at"))
        .order_by("created_at")
        .values("finished_at")[:1]
    )
    # Each subquery is written once in the SQL: the previous status with a default (so one
    # comparison filters), the restore time left null when none came (Count and Avg skip it).
    failures = (
        _deployments(scope)
        .filter(status=FAILED)
        .annotate(
            previous_status=Coalesce(Subquery(previous), Value("")),
            restored_at=Subquery(restored),
        )
        .exclude(previous_status=FAILED)
    )
    figures = failures.aggregate(
        count=Count("restored_at"),
        average=Avg(
            ExpressionWrapper(
                F("restored_at") - Coalesce("finished_at", "created_at"),
                output_field=DurationField(),
            )
        ),
    )
    average = figures["average"]
    return {
        "count": figures["count"],
        "average": round(average.total_seconds(), 1) if average is not None else None,
    }


STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
TOP_PATHS = 20


def status_class(status: int) -> str | None:
    """``404`` -> ``"4xx"``; None for codes outside 200–599 (interim answers)."""
    name = f"{status // 100}xx"
    return name if name in STATUS_CLASSES else None


def _classes(rows) -> dict[str, int]:
    """Requests per status class from ``(status, requests)`` pairs, every class present."""
    counts = dict.fromkeys(STATUS_CLASSES, 0)
    for status, requests in rows:
        name = status_class(status)
        if name is not None:
            counts[name] += requests
    return counts


def _in_window(rows, scope: Scope):
    rows = rows.filter(site__team=scope.team, day__gte=scope.first_day)
    rows = rows.filter(day__lte=timezone.localdate(scope.end))
    return rows.filter(site=scope.site) if scope.site is not None else rows


def traffic(scope: Scope) -> dict:
    """What the team's sites served over the window: requests and bytes per day and per site,
    the status codes answered (per day and per site by class, and each code's total), and the
    most requested paths. Six aggregate queries, whatever the traffic."""
    rows = _in_window(SiteBandwidth.objects.all(), scope)
    daily = {
        row["day"]: row
        for row in rows.values("day")
        .annotate(requests=Sum("requests"), bytes=Sum("bytes_sent"))
        .order_by()
    }
    per_site = list(
        rows.values("site_id", "site__name", "site__slug")
        .annotate(requests=Sum("requests"), bytes=Sum("bytes_sent"))
        .order_by("-bytes", "site__name")
    )
    statuses = _in_window(SiteStatusDay.objects.all(), scope)
    by_day, by_site, by_code = defaultdict(list), defaultdict(list), defaultdict(int)
    for row in statuses.values("day", "status").annotate(requests=Sum("requests")).order_by():
        by_day[row["day"]].append((row["status"], row["requests"]))
        by_code[row["status"]] += row["requests"]
    for row in statuses.values("site_id", "status").annotate(requests=Sum("requests")).order_by():
        by_site[row["site_id"]].append((row["status"], row["requests"]))
    days = [
        {
            "day": day,
            "requests": daily.get(day, {}).get("requests", 0),
            "bytes": daily.get(day, {}).get("bytes", 0),
            **_classes(by_day[day]),
        }
        for day in scope.day_list()
    ]
    # Grouped by the site's id alone (its name comes from the per-site rows: a day with paths
    # has its bandwidth row), so the database hashes ids and paths rather than sorting names.
    paths = (
        _in_window(SitePathDay.objects.exclude(path=SitePathDay.OTHER), scope)
        .values("site_id", "path")
        .annotate(requests=Sum("requests"), bytes=Sum("bytes_sent"))
        .order_by("-requests", "-bytes", "path", "site_id")[:TOP_PATHS]
    )
    names = {row["site_id"]: row["site__name"] for row in per_site}
    return {
        "requests": sum(day["requests"] for day in days),
        "bytes": sum(day["bytes"] for day in days),
        "days": days,
        "sites": [
            {
                "site_id": row["site_id"],
                "name": row["site__name"],
                "slug": row["site__slug"],
                "requests": row["requests"],
                "bytes": row["bytes"],
                **_classes(by_site[row["site_id"]]),
            }
            for row in per_site
        ],
        "statuses": [
            {"status": status, "class": status_class(status) or "other", "requests": count}
            for status, count in sorted(by_code.items())
        ],
        "paths": [
            {
                "site_id": row["site_id"],
                "site": names.get(row["site_id"], ""),
                "path": row["path"],
                "requests": row["requests"],
                "bytes": row["bytes"],
            }
            for row in paths
        ],
    }


def site_choices(*, team) -> list[Site]:
    """The team's sites, by name, for the page's site filter."""
    return list(Site.objects.for_team(team).order_by("name").only("pk", "name"))
