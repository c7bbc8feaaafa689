"""Hostnames of verified custom domains for the site server and the edge (hosting/hostnames.py).

Per verified domain attached to a site: its serving name serves the site (or, when another
domain is the site's primary, redirects there); with a www redirect, the other name of the
www/apex pair redirects to the serving name. A domain with an active certificate covering a
hostname gives that route its certificate files on the edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domains.models import Certificate, Domain
from hosting.hostnames import HostRoute


def _active_certificates(domain_ids: list) -> dict:
    found = {}
    for cert in (
        Certificate.objects.filter(domain_id__in=domain_ids, status=Certificate.Status.ACTIVE)
        .select_related("domain")
        .order_by("domain_id", "-issued_at")
    ):
        found.setdefault(cert.domain_id, cert)
    return found


def _primary_names(site_ids: Iterable) -> dict:
    return {
        d.site_id: d.serving_name
        for d in Domain.objects.verified().filter(site_id__in=list(site_ids), is_primary=True)
    }


def _routes_of(domain: Domain, primary: str | None, cert: Certificate | None) -> list[HostRoute]:
    from domains.certificates import ensure_certificate_files

    files = None
    covered: set[str] = set()
    if cert is not None:
        covered = set(cert.names)
        files = ensure_certificate_files(cert)

    def tls(hostname: str):
        wildcard = "*." + hostname.split(".", 1)[1] if "." in hostname else ""
        return files if files and (hostname in covered or wildcard in covered) else None

    serving = domain.serving_name
    target = primary if primary and primary != serving else None
    routes = [HostRoute(serving, domain.site_id, redirect_to=target, certificate=tls(serving))]
    for other in domain.hostnames[1:]:
        routes.append(
            HostRoute(other, domain.site_id, redirect_to=target or serving, certificate=tls(other))
        )
    return routes


class DomainRouteProvider:
    """Registered in DomainsConfig.ready()."""

    def routes(self, site_ids: Iterable[UUID] | None = None) -> list[HostRoute]:
        domains = Domain.objects.verified().filter(site__isnull=False)
        if site_ids is not None:
            domains = domains.filter(site_id__in=list(site_ids))
        domains = list(domains)
        if not domains:
            return []
        primaries = _primary_names({d.site_id for d in domains})
        certs = _active_certificates([d.pk for d in domains])
        found: list[HostRoute] = []
        for domain in domains:
            found.extend(_routes_of(domain, primaries.get(domain.site_id), certs.get(domain.pk)))
        return found

    def route_for_host(self, hostname: str) -> HostRoute | None:
        names = [hostname]
        if hostname.startswith("www."):
            names.append(hostname[4:])
        for domain in Domain.objects.verified().filter(site__isnull=False, name__in=names):
            if hostname not in domain.hostnames:
                continue
            primaries = _primary_names([domain.site_id])
            certs = _active_certificates([domain.pk])
            for route in _routes_of(domain, primaries.get(domain.site_id), certs.get(domain.pk)):
                if route.hostname == hostname:
                    return route
        return None


provider = DomainRouteProvider()
