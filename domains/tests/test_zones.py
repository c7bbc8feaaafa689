"""The zone editor: records checked, stored and published to a real PowerDNS, then resolved."""

from __future__ import annotations

import dns.resolver
import pytest
from django.core.exceptions import ValidationError

from domains import services, zones
from domains.models import DnsRecord
from domains.tests.factories import register_domain

pytestmark = pytest.mark.django_db


def resolve(pdns, name, rdtype):
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = pdns.dns_port
    try:
        return sorted(r.to_text() for r in res.resolve(name, rdtype))
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []


def test_a_new_zone_has_default_records(alice, pdns, settings):
    settings.EDGE_IPV6 = ["2001:db8::10"]
    domain = register_domain(owner=alice, name="shop.test")
    rows = {(r.name, r.type, r.content) for r in domain.records.all()}
    assert rows == {
        ("@", "A", "127.0.0.1"),
        ("@", "AAAA", "2001:db8::10"),
        ("www", "CNAME", "shop.test"),
    }
    assert resolve(pdns, "shop.test", "AAAA") == ["2001:db8::10"]
    assert resolve(pdns, "shop.test", "NS") == ["ns1.berth.test.", "ns2.berth.test."]
    assert domain.zone_published_at is not None and domain.zone_error == ""


def test_every_record_type_resolves_after_editing(alice, pdns):
    domain = register_domain(owner=alice, name="shop.test")
    add = lambda **kw: zones.record_create(domain=domain, **kw)  # noqa: E731
    add(name="api", type="A", content="192.0.2.7", ttl=300)
    add(name="api", type="AAAA", content="2001:db8::7", ttl=300)
    add(name="@", type="MX", content="mx2.shop.test", priority=20)
    add(name="@", type="MX", content="mx1.shop.test", priority=10)
    add(name="_dmarc", type="TXT", content="v=DMARC1; p=none")
    add(name="_sip._tcp", type="SRV", content="5 5060 sip.shop.test", priority=10)
    add(name="@", type="CAA", content='0 issue "letsencrypt.org"')
    add(name="lab", type="NS", content="ns.elsewhere.net")
    add(name="docs", type="CNAME", content="readthedocs.example.org")
    assert resolve(pdns, "api.shop.test", "A") == ["192.0.2.7"]
    assert resolve(pdns, "api.shop.test", "AAAA") == ["2001:db8::7"]
    assert resolve(pdns, "shop.test", "MX") == ["10 mx1.shop.test.", "20 mx2.shop.test."]
    assert resolve(pdns, "_dmarc.shop.test", "TXT") == ['"v=DMARC1; p=none"']
    assert resolve(pdns, "_sip._tcp.shop.test", "SRV") == ["10 5 5060 sip.shop.test."]
    assert resolve(pdns, "shop.test", "CAA") == ['0 issue "letsencrypt.org"']
    assert resolve(pdns, "docs.shop.test", "CNAME") == ["readthedocs.example.org."]


def test_edit_and_delete_change_what_dns_answers(alice, pdns):
    domain = register_domain(owner=alice, name="shop.test")
    record = zones.record_create(domain=domain, name="api", type="A", content="192.0.2.7")
    zones.record_update(record=record, content="192.0.2.8", ttl=600)
    assert resolve(pdns, "api.shop.test", "A") == ["192.0.2.8"]
    zones.record_delete(record=record)
    assert resolve(pdns, "api.shop.test", "A") == []


def test_zone_rules_are_enforced_against_existing_records(alice, pdns):
    domain = register_domain(owner=alice, name="shop.test")
    with pytest.raises(ValidationError, match="CNAME"):
        zones.record_create(domain=domain, name="www", type="A", content="192.0.2.1")
    zones.record_create(domain=domain, name="api", type="A", content="192.0.2.7")
    with pytest.raises(ValidationError, match="CNAME"):
        zones.record_create(domain=domain, name="api", type="CNAME", content="x.example.org")
    with pytest.raises(ValidationError, match="already has"):
        zones.record_create(domain=domain, name="api", type="A", content="192.0.2.7")
    # A new TTL applies to the whole rrset instead of splitting it.
    zones.record_create(domain=domain, name="api", type="A", content="192.0.2.9", ttl=120)
    assert set(DnsRecord.objects.filter(name="api").values_list("ttl", flat=True)) == {120}


def test_a_zone_is_kept_but_marked_unpublished_without_powerdns(alice):
    domain = register_domain(owner=alice, name="shop.test")
    assert domain.dns_hosted and domain.records.count() == 2
    assert "not configured" in domain.zone_error


def test_an_external_domain_can_move_its_dns_to_berth(alice, pdns):
    domain = services.domain_add(owner=alice, name="customer.example")
    with pytest.raises(ValidationError, match="DNS hosting"):
        zones.record_create(domain=domain, name="api", type="A", content="192.0.2.1")
    services.domain_dns_enable(domain=domain)
    assert resolve(pdns, "www.customer.example", "CNAME") == ["customer.example."]


def test_the_database_refuses_a_duplicate_record_when_two_writers_race(alice):
    """Two requests can both pass the zone check; the database keeps only one copy."""
    from django.db import IntegrityError, transaction

    domain = register_domain(owner=alice, name="shop.test")
    for priority in (None, 10):
        row = {"domain": domain, "name": "api", "type": "MX", "content": "mx.example.org."}
        DnsRecord.objects.create(**row, priority=priority)
        with pytest.raises(IntegrityError), transaction.atomic():
            DnsRecord.objects.create(**row, priority=priority)
    assert domain.records.filter(name="api").count() == 2
