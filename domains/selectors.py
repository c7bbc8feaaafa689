"""Reads for the domain pages and the API: lists of one team (``team``, the current one) or of
all the user's teams; lookups by id among the user's teams."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, Q

from domains.models import Certificate, DnsRecord, Domain
from hosting.models import Site


def domain_list(*, user, query: str = "", kind: str = "", team=None):
    domains = Domain.objects.scoped(user=user, team=team).select_related("site")
    if query:
        domains = domains.filter(name__icontains=query.strip().lower())
    if kind == "registered":
        domains = domains.exclude(registration="")
    elif kind == "external":
        domains = domains.filter(registration="")
    elif kind in Domain.Verification.values:
        domains = domains.filter(verification_status=kind)
    return domains.prefetch_related(_certificates_prefetch())


def _certificates_prefetch() -> Prefetch:
    return Prefetch(
        "certificates",
        queryset=Certificate.objects.order_by("-created_at"),
        to_attr="certificate_list",
    )


def domain_get(*, user, pk) -> Domain:
    """The user's domain; ``Domain.DoesNotExist`` for anyone else's."""
    return Domain.objects.for_user(user).select_related("site").get(pk=pk)


def domains_of_site(*, user, site: Site):
    """A site's custom domains (for the site's pages): primary first."""
    return (
        Domain.objects.for_user(user)
        .filter(site=site)
        .order_by("-is_primary", "name")
        .prefetch_related(_certificates_prefetch())
    )


def record_list(*, domain: Domain):
    return domain.records.all()


def record_get(*, domain: Domain, pk) -> DnsRecord:
    return domain.records.get(pk=pk)


def site_get(*, user, pk) -> Site:
    return Site.objects.for_user(user).get(pk=pk)


def user_sites(*, user, team=None):
    """Sites a domain may be attached to: the team's (a domain serves its own team's sites)."""
    return Site.objects.scoped(user=user, team=team).order_by("name")


def certificates_of_site(*, user, site: Site):
    return (
        Certificate.objects.for_user(user)
        .filter(domain__site=site)
        .select_related("domain")
        .order_by("-created_at")
    )


def certificates_of_domain(*, domain: Domain):
    return domain.certificates.order_by("-created_at")


def current_certificate(domain: Domain) -> Certificate | None:
    """The certificate to show: the newest open or active order, else the newest at all."""
    certs = getattr(domain, "certificate_list", None)
    if certs is None:
        certs = list(domain.certificates.order_by("-created_at")[:10])
    for cert in certs:
        if cert.status in (Certificate.Status.PENDING, Certificate.Status.ISSUING):
            return cert
    for cert in certs:
        if cert.status == Certificate.Status.ACTIVE:
            return cert
    return certs[0] if certs else None


def verification_instructions(domain: Domain) -> dict:
    """The records a user can add at their DNS host to prove the domain, one of which suffices."""
    site_host = domain.site.hostname if domain.site_id else f"<your-site>.{settings.SITES_DOMAIN}"
    return {
        "txt": {
            "type": "TXT",
            "name": domain.verify_record_name,
            "value": domain.verification_token,
        },
        "cname": {"type": "CNAME", "name": domain.name, "value": site_host},
        "a": [{"type": "A", "name": domain.name, "value": ip} for ip in settings.EDGE_IPV4]
        + [{"type": "AAAA", "name": domain.name, "value": ip} for ip in settings.EDGE_IPV6],
    }


def expiring_registrations(*, user, days: int = 30, team=None):
    from datetime import timedelta

    from django.utils import timezone

    return Domain.objects.scoped(user=user, team=team).filter(
        Q(registration=Domain.Registration.ACTIVE)
        & Q(expires_at__lte=timezone.now() + timedelta(days=days))
    )
