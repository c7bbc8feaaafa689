"""Certificates issued for real by pebble (ACME) over HTTP-01 and DNS-01, renewed and retried."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store
from django.db import connection
from django.utils import timezone

from controlpanel.celery import app as celery_app
from domains import certificates, services
from domains.dns.pdns import PowerDNS, RRset
from domains.models import AcmeChallenge, Certificate, Domain
from domains.tests.factories import make_site, register_domain
from hosting import hostnames


def world_zone(pdns, zone, *rrsets):
    PowerDNS(pdns.api_url, pdns.api_key).zone_create(
        zone, ["ns1.elsewhere.net"], [RRset(*r) for r in rrsets]
    )


def verify_chain(cert: Certificate, pebble, name: str) -> x509.Certificate:
    """The issued chain validates up to pebble's root for ``name``."""
    chain = x509.load_pem_x509_certificates(cert.certificate_pem.encode())
    roots = x509.load_pem_x509_certificates(pebble.trust_anchor().read_bytes())
    store = Store([c for c in roots if c.issuer == c.subject])
    verifier = PolicyBuilder().store(store).build_server_verifier(x509.DNSName(name))
    verifier.verify(chain[0], chain[1:])
    return chain[0]


def sans(leaf: x509.Certificate) -> set[str]:
    return set(
        leaf.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value.get_values_for_type(x509.DNSName)
    )


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.mark.django_db
def test_dns01_wildcard_certificate_for_a_hosted_zone(
    alice, pebble, django_capture_on_commit_callbacks, settings
):
    site = make_site(alice)
    domain = register_domain(owner=alice, name="brand.test", site=site)
    domain.refresh_from_db()
    assert domain.is_verified
    cert = certificates.certificate_request(domain=domain, names=["brand.test", "*.brand.test"])
    assert cert.challenge == "dns-01" and cert.status == "pending"
    changed = []
    hostnames.hostnames_changed.connect(
        lambda sender, site_id=None, **kw: changed.append(site_id), weak=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        cert = certificates.certificate_issue(certificate_id=cert.pk)
    assert cert.status == "active", cert.error
    leaf = verify_chain(cert, pebble, "anything.brand.test")
    assert sans(leaf) == {"brand.test", "*.brand.test"}
    assert cert.not_after > timezone.now() + timedelta(days=30)
    assert site.pk in changed
    # The private key is encrypted at rest and written 0600 for the edge.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key FROM domains_certificate WHERE id = %s",
            [cert.pk.hex if connection.vendor == "sqlite" else cert.pk],
        )
        raw = cursor.fetchone()[0]
    assert "PRIVATE KEY" not in raw and "PRIVATE KEY" in cert.private_key
    chain_path, key_path = certificates.certificate_paths("brand.test")
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    route = hostnames.route_for_host("www.brand.test") or hostnames.route_for_host("brand.test")
    assert route.certificate == (chain_path, key_path)
    # The DNS-01 records were removed afterwards.
    assert not domain.records.filter(name__startswith="_acme-challenge").exists()
    assert not AcmeChallenge.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_http01_answered_by_the_embedded_responder(alice, pebble, challenge_server):
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone_for(pebble, "customer.example")
    services.domain_verify(domain=domain)
    assert domain.is_verified
    cert = certificates.certificate_request(domain=domain)
    assert cert.challenge == "http-01" and cert.names == ["customer.example"]
    cert = certificates.certificate_issue(certificate_id=cert.pk)
    assert cert.status == "active", cert.error
    verify_chain(cert, pebble, "customer.example")
    assert any("/.well-known/acme-challenge/" in r for r in challenge_server.requests)
    assert not AcmeChallenge.objects.exists()
    assert hostnames.acme_challenge("not-a-token-of-any-order") is None


def world_zone_for(pebble, zone):
    """An outside zone whose apex and www point at the edge (127.0.0.1)."""
    from django.conf import settings

    api = PowerDNS(settings.PDNS_API_URL, settings.PDNS_API_KEY)
    api.zone_create(
        zone,
        ["ns1.elsewhere.net"],
        [RRset(zone, "A", 60, ("127.0.0.1",)), RRset(f"www.{zone}", "A", 60, ("127.0.0.1",))],
    )


@pytest.mark.django_db
def test_http01_answered_from_edge_files_with_www_redirect(
    alice, pebble, edge_challenge_server, settings
):
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone_for(pebble, "customer.example")
    services.domain_verify(domain=domain)
    services.domain_update(domain=domain, redirect=Domain.Redirect.WWW_TO_APEX)
    domain.refresh_from_db()
    cert = certificates.certificate_request(domain=domain)
    assert cert.names == ["customer.example", "www.customer.example"]
    cert = certificates.certificate_issue(certificate_id=cert.pk)
    assert cert.status == "active", cert.error
    assert sans(verify_chain(cert, pebble, "www.customer.example")) == set(cert.names)
    asked = {r.split(":")[0] for r in edge_challenge_server.requests}
    assert asked == {"customer.example", "www.customer.example"}
    # Challenge files are gone once the order is done.
    assert not list((settings.EDGE_ROOT / "acme" / ".well-known" / "acme-challenge").iterdir())
    assert hostnames.route_for_host("www.customer.example").certificate is not None


@pytest.mark.django_db
def test_a_failed_order_is_retried_with_backoff_then_fails_with_the_cas_reason(
    alice, pebble, settings
):
    settings.CERT_MAX_ATTEMPTS = 2
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone_for(pebble, "customer.example")
    services.domain_verify(domain=domain)
    cert = certificates.certificate_request(domain=domain)  # nobody answers HTTP-01
    cert = certificates.certificate_issue(certificate_id=cert.pk)
    assert cert.status == "pending" and cert.attempts == 1
    assert "customer.example" in cert.error and cert.next_attempt_at > timezone.now()
    # Not due yet: a second run does nothing.
    assert certificates.certificate_issue(certificate_id=cert.pk) is None
    Certificate.objects.filter(pk=cert.pk).update(next_attempt_at=timezone.now())
    cert = certificates.certificate_issue(certificate_id=cert.pk)
    assert cert.status == "failed" and cert.attempts == 2 and cert.error
    assert certificates.backoff(1) == timedelta(minutes=5)
    assert certificates.backoff(3) == timedelta(minutes=45)


@pytest.mark.django_db
def test_renewal_30_days_before_expiry_replaces_the_certificate(
    alice, pebble, eager_celery, django_capture_on_commit_callbacks
):
    site = make_site(alice)
    domain = register_domain(owner=alice, name="brand.test", site=site)
    domain.refresh_from_db()
    first = certificates.certificate_request(domain=domain, names=["brand.test"])
    first = certificates.certificate_issue(certificate_id=first.pk)
    assert first.status == "active", first.error
    Certificate.objects.filter(pk=first.pk).update(not_after=timezone.now() + timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        counts = certificates.certificates_maintain()
    assert counts["renewed"] == 1
    renewed = Certificate.objects.exclude(pk=first.pk).get(domain=domain)
    assert renewed.status == "active" and renewed.renewal_of_id == first.pk, renewed.error
    first.refresh_from_db()
    assert first.status == "replaced"
    chain_path = Path(certificates.certificate_paths("brand.test")[0])
    assert chain_path.read_text() == renewed.certificate_pem


@pytest.mark.django_db
def test_a_certificate_is_issued_when_the_domain_is_verified(
    alice, pebble, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.ACME_AUTO_ISSUE = True
    site = make_site(alice)
    with django_capture_on_commit_callbacks(execute=True):
        domain = register_domain(owner=alice, name="brand.test", site=site)
    cert = Certificate.objects.get(domain=domain)
    assert cert.status == "active", cert.error
    assert cert.names == ["brand.test"] and cert.challenge == "dns-01"
