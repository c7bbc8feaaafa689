"""Reads of sites for pages and the API: lists of one team (``for_team``), lookups by id
among the user's teams (``for_member``)."""

from __future__ import annotations

import datetime

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from controlpanel.prepared import PreparedQuery, PreparedRows
from deployments.models import Deployment, Project
from hosting.models import Site, SiteBandwidth


def month_start(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()).replace(day=1)


def _built_from_git() -> Exists:
    return Exists(Project.objects.filter(site=OuterRef("pk")))


def storage_in_use() -> Case:
    """A site's storage as pages show it (an expression over sites): its working files, or for
    a site built from git or deployed from a folder elsewhere (no working files) its live
    deployment's size."""
    return Case(
        When(
            _built_from_git() | Q(storage_used=0),
            then=Coalesce(F("live_deployment__manifest__total_size"), Value(0)),
        ),
        default=F("storage_used"),
    )


def _with_usage(sites: QuerySet, start: datetime.date | None = None) -> QuerySet:
    """Annotate this month's bandwidth, the live and the latest deployment, and the storage in
    use (one query for a page).

    A site built from git, or deployed from a folder elsewhere (the command-line client, the
    API) so that it has no working files, counts its live deployment's size as its storage.
    """
    start = start or month_start()
    latest = Deployment.objects.filter(site=OuterRef("pk")).order_by("-created_at")
    month = SiteBandwidth.objects.filter(site=OuterRef("pk"), day__gte=start)
    return sites.annotate(
        built_from_git=_built_from_git(),
        storage_in_use=storage_in_use(),
        live_deployed_at=Coalesce(
            F("live_deployment__finished_at"), F("live_deployment__created_at")
        ),
        latest_deployment_id=Subquery(latest.values("pk")[:1]),
        bandwidth_used=Coalesce(
            Subquery(month.values("site").annotate(total=Sum("bytes_sent")).values("total")[:1]),
            Value(0),
        ),
        requests_month=Coalesce(
            Subquery(month.values("site").annotate(total=Sum("requests")).values("total")[:1]),
            Value(0),
        ),
        last_deployed_at=Subquery(latest.values("created_at")[:1]),
        last_deployment_status=Subquery(latest.values("status")[:1]),
    )


# A team's sites with their usage, the list the pages and the API show: compiled once per
# process (controlpanel.prepared).
_TEAM_SITES = PreparedQuery(
    lambda team_id, start: _with_usage(Site.objects.filter(team_id=team_id), start).order_by(
        "-created_at"
    )
)


def site_list(*, user, search: str = "", team=None) -> QuerySet | PreparedRows:
    """The sites of ``team`` (pages and the API pass the current team), else of every team
    ``user`` belongs to. Without a search, a team's list is prepared rows (count, slices,
    iteration)."""
    if team is not None and not search:
        return _TEAM_SITES(team.pk, month_start())
    sites = Site.objects.scoped(user=user, team=team)
    if search:
        sites = sites.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    return _with_usage(sites).order_by("-created_at")


def site_list_all(*, search: str = "", status: str = "", kind: str = "") -> QuerySet:
    """Every team's sites with their usage, newest first, for operators: ``search`` matches the
    name, address, team or the creator's email."""
    sites = Site.objects.select_related("team", "owner")
    if search:
        sites = sites.filter(
            Q(name__icontains=search)
            | Q(slug__icontains=search)
            | Q(team__name__icontains=search)
            | Q(owner__email__icontains=search)
        )
    if status:
        sites = sites.filter(status=status)
    if kind:
        sites = sites.filter(kind=kind)
    return _with_usage(sites).order_by("-created_at")


def site_get(*, user, pk) -> Site:
    """The user's site, with usage; raises Site.DoesNotExist for anyone else's."""
    sites = Site.objects.for_user(user).select_related("live_deployment", "project")
    return _with_usage(sites).get(pk=pk)


def site_project(*, site: Site) -> Project | None:
    """The repository a site is built from, or None for a site of uploaded files (no query
    for a site from ``site_get``, which joins it)."""
    try:
        return site.project
    except Project.DoesNotExist:
        return None


def site_deployments(*, user, site: Site) -> QuerySet:
    return (
        Deployment.objects.for_user(user)
        .filter(site=site)
        .select_related("manifest", "author", "restored_from")
        .order_by("-created_at")
    )


def deployment_get(*, user, pk) -> Deployment:
    return Deployment.objects.for_user(user).select_related("site", "manifest", "author").get(pk=pk)


def site_bandwidth_days(*, site: Site, since: datetime.date | None = None) -> QuerySet:
    return SiteBandwidth.objects.filter(site=site, day__gte=since or month_start()).order_by("day")


def preview_protection_for(*, host: str) -> str:
    """How the preview or deployment address ``host`` is protected ("off", "team",
    "password"), empty when it is no such address."""
    from hosting.hostnames import normalise_host, route_for_host

    route = route_for_host(normalise_host(host)) if host else None
    if route is None or not route.deployment_id:
        return ""
    found = Site.objects.filter(pk=route.site_id).values_list("preview_protection", flat=True)
    return found.first() or ""
