"""Custom domains are verified by DNS (TXT token, CNAME or A) read from a real PowerDNS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from domains import services
from domains.dns.pdns import PowerDNS, RRset
from domains.models import Domain
from domains.tests.factories import make_site, register_domain
from hosting import hostnames

pytestmark = pytest.mark.django_db


def world_zone(pdns, zone, *rrsets):
    """A zone hosted "elsewhere": written straight into PowerDNS, not through Berth."""
    api = PowerDNS(pdns.api_url, pdns.api_key)
    api.zone_create(zone, ["ns1.elsewhere.net"], [RRset(*r) for r in rrsets])


@pytest.fixture
def changes():
    seen = []

    def receiver(sender, site_id=None, **kwargs):
        seen.append(site_id)

    hostnames.hostnames_changed.connect(receiver)
    yield seen
    hostnames.hostnames_changed.disconnect(receiver)


def test_adding_a_domain_issues_a_verification_token(alice):
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="Customer.Example", site=site.pk)
    assert domain.name == "customer.example" and domain.site == site
    assert len(domain.verification_token) == 32
    assert domain.verification_status == Domain.Verification.PENDING


def test_txt_record_verifies_and_the_domain_starts_serving(
    alice, pdns, changes, django_capture_on_commit_callbacks
):
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone(
        pdns,
        "customer.example",
        ("_berth-verify.customer.example", "TXT", 60, (f'"{domain.verification_token}"',)),
        ("customer.example", "A", 60, ("198.51.100.1",)),
    )
    assert hostnames.route_for_host("customer.example") is None
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_verify(domain=domain)
    assert domain.is_verified and domain.verification_method == "txt"
    assert domain.is_primary  # the site's first verified domain
    assert changes == [site.pk]
    route = hostnames.route_for_host("Customer.Example:443")
    assert route.site_id == site.pk and route.redirect_to is None
    assert hostnames.HostRoute("customer.example", site.pk) in hostnames.routes([site.pk])


def test_cname_to_the_site_verifies(alice, pdns):
    site = make_site(alice, slug="blog")
    domain = services.domain_add(owner=alice, name="www.customer.example", site=site)
    world_zone(
        pdns,
        "customer.example",
        ("www.customer.example", "CNAME", 60, ("blog.sites.localhost.",)),
    )
    services.domain_verify(domain=domain)
    assert domain.is_verified and domain.verification_method == "cname"


def test_a_record_at_the_edge_verifies(alice, pdns):
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone(pdns, "customer.example", ("customer.example", "A", 60, ("127.0.0.1",)))
    services.domain_verify(domain=domain)
    assert domain.is_verified and domain.verification_method == "a"


def test_failure_shows_what_dns_answered(alice, pdns):
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone(
        pdns,
        "customer.example",
        ("customer.example", "A", 60, ("198.51.100.1",)),
        ("_berth-verify.customer.example", "TXT", 60, ('"wrong-token"',)),
    )
    services.domain_verify(domain=domain)
    # Records can take a while to appear: a new domain waits for DNS instead of failing.
    assert domain.verification_status == Domain.Verification.PENDING
    assert "198.51.100.1" in domain.verification_error
    assert domain.verification_answer["a"] == ["198.51.100.1"]
    assert domain.verification_answer["txt"] == ["wrong-token"]
    assert hostnames.route_for_host("customer.example") is None


def test_no_answer_from_dns_is_reported(alice):
    domain = services.domain_add(owner=alice, name="customer.example")
    services.domain_verify(domain=domain)
    assert domain.verification_status == Domain.Verification.PENDING
    assert "DNS did not answer" in domain.verification_error


def test_a_domain_waits_for_dns_until_it_gives_up(alice, client, settings):
    settings.DOMAIN_VERIFY_GIVE_UP_HOURS = 72
    domain = services.domain_add(owner=alice, name="customer.example")
    services.domain_verify(domain=domain)
    client.force_login(alice)
    page = client.get(f"/domains/{domain.pk}/").content.decode()
    assert "Waiting for DNS" in page and "data-waiting-for-dns" in page
    assert "Not verified." not in page

    Domain.objects.filter(pk=domain.pk).update(created_at=timezone.now() - timedelta(hours=73))
    domain.refresh_from_db()
    services.domain_verify(domain=domain)
    assert domain.verification_status == Domain.Verification.FAILED
    page = client.get(f"/domains/{domain.pk}/").content.decode()
    assert "Not verified." in page and "Waiting for DNS" not in page


def test_a_name_verified_by_one_account_cannot_be_taken_by_another(alice, bob, charlie, pdns):
    mine = services.domain_add(owner=alice, name="customer.example")
    theirs = services.domain_add(owner=bob, name="customer.example")
    world_zone(pdns, "customer.example", ("customer.example", "A", 60, ("127.0.0.1",)))
    services.domain_verify(domain=mine)
    services.domain_verify(domain=theirs)
    assert mine.is_verified
    assert not theirs.is_verified and "another account" in theirs.verification_error
    with pytest.raises(ValidationError, match="another account"):
        services.domain_add(owner=charlie, name="customer.example")


def test_the_periodic_check_verifies_pending_domains(alice, pdns):
    site = make_site(alice)
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone(
        pdns,
        "customer.example",
        ("_berth-verify.customer.example", "TXT", 60, (f'"{domain.verification_token}"',)),
    )
    Domain.objects.filter(pk=domain.pk).update(
        verification_checked_at=timezone.now() - timedelta(hours=1)
    )
    assert services.domains_verify_due() == 1
    domain.refresh_from_db()
    assert domain.is_verified
    assert services.domains_verify_due() == 0  # verified domains are left alone


def test_registered_domains_verify_through_their_hosted_zone(alice, pdns):
    site = make_site(alice)
    domain = register_domain(owner=alice, name="brand.test", site=site)
    domain.refresh_from_db()
    assert domain.is_verified and domain.verification_method == "txt"
    assert domain.records.filter(name="_berth-verify", managed=True).exists()


def test_www_redirect_and_primary_domain_routes(
    alice, pdns, changes, django_capture_on_commit_callbacks
):
    site = make_site(alice)
    first = register_domain(owner=alice, name="brand.test", site=site)
    second = register_domain(owner=alice, name="other.test", site=site)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_primary and not second.is_primary
    with django_capture_on_commit_callbacks(execute=True):
        services.domain_update(domain=first, redirect=Domain.Redirect.WWW_TO_APEX)
    assert site.pk in changes
    assert hostnames.route_for_host("www.brand.test").redirect_to == "brand.test"
    assert hostnames.route_for_host("brand.test").redirect_to is None
    # A site's other domains redirect to its primary one.
    assert hostnames.route_for_host("other.test").redirect_to == "brand.test"
    services.domain_update(domain=second, is_primary=True)
    assert hostnames.route_for_host("brand.test").redirect_to == "other.test"
    assert hostnames.route_for_host("other.test").redirect_to is None
    first.refresh_from_db()
    services.domain_update(domain=first, redirect=Domain.Redirect.APEX_TO_WWW)
    assert hostnames.route_for_host("brand.test").redirect_to == "other.test"
    second.refresh_from_db()
    services.domain_update(domain=second, site=None)  # the primary leaves: another takes over
    first.refresh_from_db()
    assert first.is_primary and hostnames.route_for_host("other.test") is None
    services.domain_update(domain=first, site=None)
    assert hostnames.route_for_host("brand.test") is None
    assert {r.hostname for r in hostnames.routes([site.pk])} == {site.hostname}


def test_a_site_of_another_user_cannot_be_attached(alice, bob):
    bobs = make_site(bob)
    with pytest.raises(ValidationError, match="No such site"):
        services.domain_add(owner=alice, name="customer.example", site=bobs.pk)
