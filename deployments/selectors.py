"""Reads for pages, the API and consumers: lists of one team (``team``, the current one) or
of all the user's teams; lookups by id among the user's teams."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
)
from django.utils import timezone

from controlpanel.prepared import PreparedAggregate, PreparedQuery
from deployments import dependency_cache
from deployments.filters import deployment_filter
from deployments.models import Deployment, DeploymentStage, GitHubConnection, LogLine, Project
from deployments.projects import (  # noqa: F401  (re-exported reads of a repository)
    RepositorySource,
    branch_verify,
    repository_branches,
    repository_detect,
    repository_resolve,
)
from hosting.models import Site
from teams.models import Membership


def _listed(queryset):
    # The project's encrypted columns are left out: a list never shows them, and decrypting
    # them cost a Fernet decryption each per row.
    return queryset.select_related("site", "project", "author").defer(
        "project__env_vars", "project__preview_env_vars", "project__webhook_secret"
    )


# What a deployment summary shows (the API's lists and the dashboard's recent builds): the
# columns of ``DeploymentSummarySerializer``, 24 of the 79 a listed row has (11 datetimes
# parsed per row where 3 are read).
SUMMARY_COLUMNS = (
    "id",
    "branch",
    "status",
    "source",
    "preview",
    "commit_hash",
    "commit_message",
    "commit_author",
    "build_duration",
    "started_at",
    "finished_at",
    "created_at",
    "manifest_id",
    "site__name",
    "site__slug",
    "project__name",
    "author__name",
    "author__email",
)


def _summaries(queryset):
    return queryset.select_related("site", "project", "author").only(*SUMMARY_COLUMNS)


# A team's whole list (no search, no status filter) is what the API and the pages ask for
# most: compiled once per process (controlpanel.prepared).
_TEAM_DEPLOYMENTS = PreparedQuery(
    lambda team_id: _listed(Deployment.objects.filter(site__team_id=team_id)).order_by(
        "-created_at"
    )
)
_TEAM_SUMMARIES = PreparedQuery(
    lambda team_id: _summaries(Deployment.objects.filter(site__team_id=team_id)).order_by(
        "-created_at"
    )
)


def deployment_list(*, user, search: str = "", status: str = "", team=None, summary=False):
    """The deployments of ``team`` (of all the user's teams without one), newest first. The
    unfiltered list of a team is prepared rows (count, slices, iteration); otherwise a
    queryset. ``summary``: only what ``DeploymentSummarySerializer`` reads is loaded (any
    other column is read from the database when touched)."""
    unfiltered = not (search or "").strip() and (status or "").strip().lower() in ("", "all")
    if team is not None and unfiltered:
        return (_TEAM_SUMMARIES if summary else _TEAM_DEPLOYMENTS)(team.pk)
    scoped = Deployment.objects.scoped(user=user, team=team)
    return deployment_filter(
        _summaries(scoped) if summary else _listed(scoped),
        search=search,
        status=status,
        sites=Site.objects.scoped(user=user, team=team),
        projects=Project.objects.scoped(user=user, team=team),
    )


# Every deployment page and API call looks its deployment up: compiled once per process.
def _member_deployment(user_id, pk):
    return Deployment.objects.filter(
        site__team__in=Membership.objects.filter(user_id=user_id).values("team_id"), pk=pk
    )


_MEMBER_DEPLOYMENT = PreparedQuery(
    lambda user_id, pk: _member_deployment(user_id, pk).select_related("site", "project", "author")
)
# Its log lines only need the deployment and its site (the team's permission): no project
# (whose encrypted variables cost a Fernet decryption each), author or stages.
_MEMBER_DEPLOYMENT_BARE = PreparedQuery(
    lambda user_id, pk: _member_deployment(user_id, pk).select_related("site")
)


def deployment_get(*, user, pk, bare: bool = False) -> Deployment:
    """Raises Deployment.DoesNotExist for another user's id as for an unknown one (and for
    something that is not an id at all). ``bare``: only the deployment and its site are read
    (anything else is read when touched)."""
    try:
        pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        raise Deployment.DoesNotExist("Not a deployment id.") from None
    if user is None or not user.is_authenticated:
        raise Deployment.DoesNotExist("No such deployment among the user's teams.")
    deployment = (_MEMBER_DEPLOYMENT_BARE if bare else _MEMBER_DEPLOYMENT)(user.pk, pk).first()
    if deployment is None:
        raise Deployment.DoesNotExist("No such deployment among the user's teams.")
    if bare:
        return deployment
    _prefetched_stages(deployment)
    if deployment.project is not None and deployment.project.site_id == deployment.site_id:
        deployment.project.site = deployment.site  # the same row: no query for it again
    return deployment


_STAGES = PreparedQuery(
    lambda deployment_id: DeploymentStage.objects.filter(deployment_id=deployment_id).order_by("id")
)


def _prefetched_stages(deployment: Deployment) -> None:
    """``prefetch_related_objects([deployment], "stages")`` with the stages a prepared read:
    the same one query and the same cached queryset, without building the prefetch's query
    each time (~1 ms of a deployment's API detail)."""
    stages = list(_STAGES(deployment.pk))
    for stage in stages:
        stage.deployment = deployment
    cached = DeploymentStage.objects.filter(deployment_id=deployment.pk)
    cached._result_cache, cached._prefetch_done = stages, True
    deployment._prefetched_objects_cache = {"stages": cached}


def deployment_recent(*, user, limit: int = 5, team=None, summary=False) -> list[Deployment]:
    return list(deployment_list(user=user, team=team, summary=summary)[:limit])


@dataclass(frozen=True)
class Preview:
    """A branch or pull request preview of a site: its label, address and newest build."""

    name: str
    url: str
    branch: str
    latest: Deployment
    serving: Deployment | None  # the newest successful build: what the address serves


def preview_list(*, site: Site) -> list[Preview]:
    """The site's previews by name, each with its newest build and the build it serves."""
    builds = (
        Deployment.objects.filter(site=site)
        .exclude(preview="")
        .select_related("site", "project", "author")
        .order_by("preview", "-created_at")
    )
    latest: dict[str, Deployment] = {}
    serving: dict[str, Deployment] = {}
    for deployment in builds:
        latest.setdefault(deployment.preview, deployment)
        if deployment.status == Deployment.Status.SUCCESS and deployment.manifest_id:
            serving.setdefault(deployment.preview, deployment)
    return [
        Preview(
            name=name,
            url=newest.preview_url or "",
            branch=newest.branch,
            latest=newest,
            serving=serving.get(name),
        )
        for name, newest in latest.items()
    ]


def log_lines(*, deployment: Deployment, after: int = 0):
    return LogLine.objects.filter(deployment=deployment, seq__gt=after).order_by("seq")


class TailLine(NamedTuple):
    """A stored log line as the log views show it."""

    seq: int
    level: str
    message: str
    timestamp: datetime


LINE_COLUMNS = ("seq", "level", "message", "timestamp")


def _prepared_lines(order: str) -> PreparedQuery:
    """A deployment's log lines as ``TailLine`` rows in ``order``, compiled once per process."""
    return PreparedQuery(
        lambda deployment_id: (
            LogLine.objects.filter(deployment_id=deployment_id)
            .order_by(order)
            .values_list(*LINE_COLUMNS)
        ),
        row=TailLine,
    )


_LINES = _prepared_lines("seq")


def log_lines_page(*, deployment: Deployment, after: int = 0):
    """``log_lines`` to paginate (count and slices) as plain rows (``TailLine``'s fields):
    from the first line (lines are numbered from 1), the API's most asked page, they are
    prepared rows."""
    if after <= 0:
        return _LINES(deployment.pk)
    return log_lines(deployment=deployment, after=after).values_list(*LINE_COLUMNS, named=True)


def log_last_seq(*, deployment: Deployment) -> int:
    """The sequence number of the deployment's newest stored log line (0: none yet)."""
    last = LogLine.objects.filter(deployment=deployment).order_by("-seq").values("seq").first()
    return last["seq"] if last else 0


# A deployment's page and its API detail read its newest lines: compiled once per process.
_TAIL = _prepared_lines("-seq")


def log_tail(*, deployment: Deployment, count: int = 200) -> list[TailLine]:
    """The newest ``count`` lines, oldest first, as plain rows: a deployment's page and its API
    detail show 200 of them, and a model instance per line cost ~10 µs each."""
    rows = _TAIL(deployment.pk)[0:count]
    rows.reverse()
    return rows


def project_list(*, user, team=None):
    return Project.objects.scoped(user=user, team=team).select_related("site")


def project_get(*, user, pk) -> Project:
    """Raises Project.DoesNotExist for another user's id as for an unknown one."""
    return project_list(user=user).get(pk=pk)


def project_last_deployment(*, project: Project) -> Deployment | None:
    """The project's newest deployment that got as far as a commit."""
    return project.deployments.exclude(commit_hash="").order_by("-created_at").first()


def project_cache_usage(*, project: Project) -> dependency_cache.Usage:
    """The project's dependency cache on disk: entries newest first, sizes, the limit."""
    return dependency_cache.usage(project.pk)


def github_connection(*, user) -> GitHubConnection | None:
    return GitHubConnection.objects.filter(user=user).first()


# The dashboard asks on every load whether GitHub is connected: compiled once per process,
# the id only (the token is encrypted).
_GITHUB_CONNECTION_ID = PreparedQuery(
    lambda user_id: GitHubConnection.objects.filter(user_id=user_id).only("id")
)


def github_connected(*, user) -> bool:
    return _GITHUB_CONNECTION_ID(user.pk).first() is not None


# The dashboard shows the connected account's name: compiled once per process, without the
# encrypted tokens (read, and decrypted, only if touched).
_GITHUB_ACCOUNT = PreparedQuery(
    lambda user_id: GitHubConnection.objects.filter(user_id=user_id).only("id", "github_username")
)


def github_account(*, user) -> GitHubConnection | None:
    """The user's GitHub connection with its username (one per user), None without one."""
    return _GITHUB_ACCOUNT(user.pk).first()


_DURATION = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # some backends answer microseconds


def _stats_expressions(week_ago, today, month_ago, two_months_ago) -> dict:
    this_month = Q(created_at__gte=month_ago)
    last_month = Q(created_at__gte=two_months_ago, created_at__lt=month_ago)
    success = Q(status=Deployment.Status.SUCCESS)
    failed = Q(status=Deployment.Status.FAILED)
    timed = success & Q(started_at__isnull=False, finished_at__isnull=False)
    return {
        "total": Count("pk"),
        "week": Count("pk", filter=Q(created_at__gte=week_ago)),
        "today": Count("pk", filter=Q(created_at__gte=today)),
        "ok_now": Count("pk", filter=this_month & success),
        "bad_now": Count("pk", filter=this_month & failed),
        "ok_before": Count("pk", filter=last_month & success),
        "bad_before": Count("pk", filter=last_month & failed),
        "avg_now": Avg(_DURATION, filter=this_month & timed),
        "avg_before": Avg(_DURATION, filter=last_month & timed),
    }


# The dashboard's numbers of a team (its page and the API's stats): built once per process.
_TEAM_STATS = PreparedAggregate(
    lambda team_id, *since: (
        Deployment.objects.filter(site__team_id=team_id),
        _stats_expressions(*since),
    )
)
_TEAM_ACTIVE_SITES = PreparedQuery(
    lambda team_id: Site.objects.filter(team_id=team_id, live_deployment__isnull=False)
)


def dashboard_stats(*, user, now=None, team=None) -> dict:
    """The Autostack dashboard's numbers, computed from records in two queries whatever the data."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    since = (now - timedelta(days=7), today, now - timedelta(days=30), now - timedelta(days=60))
    if team is not None:
        row = _TEAM_STATS(team.pk, *since)
        active = _TEAM_ACTIVE_SITES(team.pk).count()
    else:
        row = Deployment.objects.scoped(user=user, team=team).aggregate(
            **_stats_expressions(*since)
        )
        active = (
            Site.objects.scoped(user=user, team=team).filter(live_deployment__isnull=False).count()
        )

    def rate(ok, bad):
        return round(100 * ok / (ok + bad)) if ok + bad else None

    rate_now, rate_before = (
        rate(row["ok_now"], row["bad_now"]),
        rate(row["ok_before"], row["bad_before"]),
    )
    avg_now, avg_before = _seconds(row["avg_now"]), _seconds(row["avg_before"])
    return {
        "totalDeployments": row["total"],
        "weeklyChange": f"+{row['week']}",
        "activeProjects": active,
        "todayDeployments": row["today"],
        "successRate": rate_now if rate_now is not None else 0,
        "monthlySuccessChange": (
            rate_now - rate_before if rate_now is not None and rate_before is not None else 0
        ),
        "avgDeployTime": short_duration(avg_now),
        "timeImprovement": signed_seconds(
            avg_now - avg_before if avg_now is not None and avg_before is not None else None
        ),
    }


def short_duration(seconds: float | None) -> str:
    """The Autostack client's compact durations: "42s", "2.4m", "1.5h"."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{round(seconds)}s"
    if seconds < 3600:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def signed_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "0s"
    value = round(seconds)
    return f"{'+' if value > 0 else '-' if value < 0 else ''}{abs(value)}s"
