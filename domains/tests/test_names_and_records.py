"""Names are normalised to IDNA; every record type is checked before it reaches DNS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from domains.dns.records import check_zone_rules, clean_record, pdns_content
from domains.names import display_name, normalise_domain

Z = "example.test"


def rec(**kw):
    base = {"zone": Z, "name": "@", "ttl": 3600, "priority": None}
    base.update(kw)
    return clean_record(**base)


def test_international_names_become_punycode_and_back():
    assert normalise_domain(" Bücher.Example. ") == "xn--bcher-kva.example"
    assert display_name("xn--bcher-kva.example") == "bücher.example"


@pytest.mark.parametrize(
    "pasted",
    ["https://Shop.Example.ORG/path", "http://shop.example.org:8080/", "Shop.Example.Org/about"],
)
def test_a_pasted_address_is_trimmed_to_its_host(pasted):
    assert normalise_domain(pasted) == "shop.example.org"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "localhost",
        "-bad.test",
        "bad-.test",
        "a..test",
        f"{'a' * 64}.test",
        "ex ample.test",
        "under_score.test",
        "example.123",
        ("a." * 127) + "test",
    ],
)
def test_invalid_domain_names_are_refused(bad):
    with pytest.raises(ValidationError):
        normalise_domain(bad)


def test_records_are_stored_in_canonical_form():
    assert rec(type_="A", content=" 192.0.2.1 ").content == "192.0.2.1"
    assert rec(type_="AAAA", content="2001:DB8:0:0::1").content == "2001:db8::1"
    cname = rec(type_="CNAME", name="WWW.example.test.", content="Target.Example.com.")
    assert (cname.name, cname.content) == ("www", "target.example.com")
    mx = rec(type_="MX", content="mail.example.test", priority="10")
    assert (
        mx.priority == 10 and pdns_content("MX", mx.content, mx.priority) == "10 mail.example.test."
    )
    srv = rec(type_="SRV", name="_sip._tcp", content="5 5060 sip.example.test", priority=10)
    assert pdns_content("SRV", srv.content, srv.priority) == "10 5 5060 sip.example.test."
    caa = rec(type_="CAA", content="0 ISSUE letsencrypt.org")
    assert caa.content == '0 issue "letsencrypt.org"'
    txt = rec(type_="TXT", name="_dmarc", content='"v=DMARC1; p=none"')
    assert txt.content == "v=DMARC1; p=none"
    long_txt = pdns_content("TXT", "x" * 300, None)
    assert long_txt == f'"{"x" * 255}" "{"x" * 45}"'


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"type_": "A", "content": "300.1.1.1"}, "content"),
        ({"type_": "AAAA", "content": "192.0.2.1"}, "content"),
        ({"type_": "CNAME", "content": "other.test"}, "name"),  # not at the apex
        ({"type_": "CNAME", "name": "www", "content": "not a host"}, "content"),
        ({"type_": "MX", "content": "mail.example.test"}, "priority"),
        ({"type_": "MX", "content": "mail.example.test", "priority": 70000}, "priority"),
        ({"type_": "SRV", "name": "sip", "content": "5 5060 sip.test", "priority": 1}, "name"),
        ({"type_": "SRV", "name": "_sip._tcp", "content": "5 sip.test", "priority": 1}, "content"),
        ({"type_": "CAA", "content": "0 bogus x"}, "content"),
        ({"type_": "TXT", "content": "line\nbreak"}, "content"),
        ({"type_": "A", "content": "192.0.2.1", "ttl": 5}, "ttl"),
        ({"type_": "A", "name": "bad_name", "content": "192.0.2.1"}, "name"),
        ({"type_": "PTR", "content": "x"}, "type"),
        ({"type_": "NS", "content": "ns.other.test"}, "name"),
    ],
)
def test_invalid_records_are_refused_with_the_field_named(kw, field):
    with pytest.raises(ValidationError) as info:
        rec(**kw)
    assert field in info.value.message_dict


def test_a_cname_excludes_other_records_at_its_name():
    records = [
        rec(type_="CNAME", name="www", content="example.test"),
        rec(type_="A", name="www", content="192.0.2.1"),
    ]
    with pytest.raises(ValidationError, match="CNAME"):
        check_zone_rules(records)


def test_one_ttl_per_rrset():
    records = [
        rec(type_="A", content="192.0.2.1", ttl=300),
        rec(type_="A", content="192.0.2.2", ttl=600),
    ]
    with pytest.raises(ValidationError, match="TTL"):
        check_zone_rules(records)
