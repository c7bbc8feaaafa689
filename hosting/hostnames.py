"""Which hostnames serve which site: the contract between sites, serving and domains.

Every site answers at ``<slug>.<SITES_DOMAIN>``, and every successful deployment of a static site
at its own immutable ``<short id>--<slug>.<SITES_DOMAIN>`` whatever is live (site slugs never
hold ``--`` outside an ``xn--`` prefix, so the two never collide). Other apps add hostnames
(custom domains, ``www.`` redirects, certificates) by registering a provider; the embedded site
server and the nginx edge both read routes only through here. Whoever changes routes sends
``hostnames_changed`` (after commit) so caches and the edge config are refreshed.

ACME HTTP-01 challenges are answered on every hostname by both servers: the embedded server
asks ``acme_challenge(token)``; the edge serves files from ``<EDGE_ROOT>/acme``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from django.conf import settings
from django.dispatch import Signal

# Sent with site_id (or None for "possibly all") after routes changed and committed.
hostnames_changed = Signal()


@dataclass(frozen=True)
class HostRoute:
    hostname: str
    site_id: UUID
    # Answer with a permanent redirect to this hostname instead of serving (www <-> apex).
    redirect_to: str | None = None
    # (certificate chain path, private key path) on the edge, when the hostname has HTTPS.
    certificate: tuple[str, str] | None = None
    # Serve this deployment instead of the site's live one (a deployment's own address).
    deployment_id: UUID | None = None


class RouteProvider(Protocol):
    def routes(self, site_ids: Iterable[UUID] | None = None) -> list[HostRoute]: ...

    def route_for_host(self, hostname: str) -> HostRoute | None: ...


_providers: list[RouteProvider] = []
_challenge_responders: list[Callable[[str], str | None]] = []


def register_provider(provider: RouteProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def register_challenge_responder(responder: Callable[[str], str | None]) -> None:
    if responder not in _challenge_responders:
        _challenge_responders.append(responder)


def normalise_host(host: str) -> str:
    """``Example.COM:8000`` -> ``example.com`` (port and trailing dot dropped)."""
    host = (host or "").strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


# How many hex digits of a deployment's id its address carries.
DEPLOYMENT_ID_LENGTH = 8
DEPLOYMENT_LABEL_RE = re.compile(rf"^([0-9a-f]{{{DEPLOYMENT_ID_LENGTH}}})--([a-z0-9-]+)$")
# ``<preview>--<slug>``: a branch or pull request preview (the preview holds no "--").
PREVIEW_LABEL_RE = re.compile(r"^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)--([a-z0-9-]+)$")


def preview_label(name: str, slug: str) -> str:
    """A branch name as a preview label: lower-case letters, digits and single hyphens,
    short enough that ``<label>--<slug>`` is one DNS label, never a deployment's short id."""
    label = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", name.lower())).strip("-")
    if re.fullmatch(rf"[0-9a-f]{{{DEPLOYMENT_ID_LENGTH}}}", label):
        label = "b-" + label
    return label[: max(1, 63 - 2 - len(slug))].rstrip("-") or "preview"


def deployment_hostname(short_id: str, slug: str) -> str:
    return f"{short_id}--{slug}.{settings.SITES_DOMAIN}"


def default_hostname(slug: str) -> str:
    return f"{slug}.{settings.SITES_DOMAIN}"


def slug_from_host(hostname: str) -> str | None:
    suffix = "." + settings.SITES_DOMAIN
    if hostname.endswith(suffix):
        label = hostname[: -len(suffix)]
        if label and "." not in label:
            return label
    return None


def route_for_host(host: str) -> HostRoute | None:
    """The route for a request's Host header (one or two queries; callers cache it)."""
    from hosting.models import Site

    hostname = normalise_host(host)
    slug = slug_from_host(hostname)
    if slug is not None:
        site_id = Site.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if site_id is None and (match := DEPLOYMENT_LABEL_RE.match(slug)):
            return _deployment_route(hostname, *match.groups())
        if site_id is None and (match := PREVIEW_LABEL_RE.match(slug)):
            return _preview_route(hostname, *match.groups())
        return HostRoute(hostname, site_id) if site_id else None
    for provider in _providers:
        route = provider.route_for_host(hostname)
        if route is not None:
            return route
    return None


def _deployment_route(hostname: str, short_id: str, slug: str) -> HostRoute | None:
    """The route to one deployment's files: the site's successful deployment whose id starts
    with ``short_id`` (None when no deployment, or more than one, does)."""
    from deployments.models import Deployment

    low = UUID(short_id + "0" * (32 - len(short_id)))
    high = UUID(short_id + "f" * (32 - len(short_id)))
    found = list(
        Deployment.objects.filter(
            site__slug=slug,
            id__gte=low,
            id__lte=high,
            status=Deployment.Status.SUCCESS,
            manifest__isnull=False,
        ).values_list("pk", "site_id")[:2]
    )
    if len(found) != 1:
        return None
    deployment_id, site_id = found[0]
    return HostRoute(hostname, site_id, deployment_id=deployment_id)


def _preview_route(hostname: str, label: str, slug: str) -> HostRoute | None:
    """The route to a preview: the newest successful deployment built as it."""
    from deployments.models import Deployment

    found = (
        Deployment.objects.filter(
            site__slug=slug,
            preview=label,
            status=Deployment.Status.SUCCESS,
            manifest__isnull=False,
        )
        .order_by("-finished_at", "-created_at")
        .values_list("pk", "site_id")
        .first()
    )
    return HostRoute(hostname, found[1], deployment_id=found[0]) if found else None


def routes(site_ids: Iterable[UUID] | None = None) -> list[HostRoute]:
    """Every route of the given sites (all sites when None), for the edge configuration."""
    from hosting.models import Site

    sites = Site.objects.all()
    if site_ids is not None:
        site_ids = list(site_ids)
        sites = sites.filter(pk__in=site_ids)
    found = [HostRoute(default_hostname(slug), pk) for pk, slug in sites.values_list("pk", "slug")]
    for provider in _providers:
        found.extend(provider.routes(site_ids))
    return found


def acme_challenge(token: str) -> str | None:
    """The key authorization for an HTTP-01 token, if a certificate order is waiting on it."""
    for responder in _challenge_responders:
        answer = responder(token)
        if answer is not None:
            return answer
    return None
