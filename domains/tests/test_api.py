"""The domains REST API: the Alt Production Hosting client's shapes, owner scoping, validation
envelope, zone records."""

from __future__ import annotations

import pytest

from conftest import bearer_client
from domains.models import Domain, RegistryEntry
from domains.tests.factories import make_site, pay_orders, registered_through_api

pytestmark = pytest.mark.django_db


def test_post_domain_issues_a_verification_token(api, alice):
    site = make_site(alice)
    response = api.post(
        "/api/domains", {"name": "Bücher.Example", "siteId": str(site.pk)}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "xn--bcher-kva.example" and body["unicodeName"] == "bücher.example"
    assert body["status"] == "pending" and len(body["verificationToken"]) == 32
    assert body["siteId"] == str(site.pk)
    txt = body["verification"]["instructions"]["txt"]
    assert txt == {
        "type": "TXT",
        "name": "_berth-verify.xn--bcher-kva.example",
        "value": body["verificationToken"],
    }
    assert body["registration"] is None and body["certificate"] is None


def test_list_is_paginated_and_scoped(api, alice, bob):
    for i in range(3):
        Domain.objects.create(owner=alice, name=f"d{i}.example")
    Domain.objects.create(owner=bob, name="bobs.example")
    body = api.get("/api/domains?limit=2").json()
    assert [d["name"] for d in body["domains"]] == ["d0.example", "d1.example"]
    assert body["pagination"] == {"currentPage": 1, "totalPages": 2, "totalItems": 3, "limit": 2}


def test_another_users_domain_is_not_found(api, bob):
    theirs = Domain.objects.create(owner=bob, name="bobs.example")
    for method in ("get", "patch", "delete"):
        response = getattr(api, method)(f"/api/domains/{theirs.pk}", {}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "DOMAIN_NOT_FOUND"
    assert api.get(f"/api/domains/{theirs.pk}/records").status_code == 404
    assert api.post(f"/api/domains/{theirs.pk}/verify").status_code == 404
    assert Domain.objects.filter(pk=theirs.pk).exists()


def test_invalid_names_answer_422_in_the_envelope(api):
    response = api.post("/api/domains", {"name": "not a domain"}, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "name" in error["details"]
    assert api.post("/api/domains", {}, format="json").status_code == 422
    assert api.get("/api/domains/check?name=-bad-").status_code == 422


def test_check_register_renew_and_patch(api, alice):
    check = api.get("/api/domains/check?name=brand").json()
    assert {r["name"]: r["price"] for r in check["results"]} == {
        "brand.test": "12.00",
        "brand.berth": "0.00",
    }
    renewal = {r["name"]: r["renewalPrice"] for r in check["results"]}
    assert renewal["brand.test"] == "12.00"
    created = api.post(
        "/api/domains",
        {"name": "brand.test", "register": True, "years": 2, "confirmPrice": "12.00"},
        format="json",
    )
    body = registered_through_api(api, created)
    assert body["registration"]["registrar"] == "berth" and body["registration"]["daysLeft"] >= 729
    assert body["dns"]["hosted"] is True
    check = api.get("/api/domains/check?name=brand.test").json()
    assert check["results"][0]["available"] is False and check["suggestions"]
    order = api.post(f"/api/domains/{body['id']}/renew", {"years": 1}, format="json")
    assert order.status_code == 202 and order.json()["purchase"]["amount"] == 12.0
    assert api.get(f"/api/domains/{body['id']}").json()["registration"]["daysLeft"] < 1094
    pay_orders()
    renewed = api.get(f"/api/domains/{body['id']}").json()
    assert renewed["registration"]["daysLeft"] >= 1094
    patched = api.patch(
        f"/api/domains/{body['id']}", {"autoRenew": False, "transferLock": False}, format="json"
    ).json()
    assert patched["autoRenew"] is False and patched["registration"]["transferLock"] is False
    # A registered domain is not deleted: it runs until its registration ends.
    response = api.delete(f"/api/domains/{body['id']}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "DOMAIN_REGISTERED"


def test_registering_needs_the_current_price_confirmed(api, alice, settings):
    """Nothing is charged until the client sends back the price it showed: without it, or with
    an old one, the answer is 409 with the price now; the client's confirmed request succeeds."""
    request = {"name": "brand.test", "register": True, "years": 2}
    unconfirmed = api.post("/api/domains", request, format="json")
    assert unconfirmed.status_code == 409
    error = unconfirmed.json()["error"]
    assert error["code"] == "PRICE_NOT_CONFIRMED" and error["statusCode"] == 409
    assert error["details"] == {
        "name": "brand.test",
        "unicodeName": "brand.test",
        "years": 2,
        "price": "12.00",
        "renewalPrice": "12.00",
        "total": "24.00",
        "currency": "USD",
        "registrar": "berth",
    }
    assert not Domain.objects.filter(name="brand.test").exists()
    assert not RegistryEntry.objects.filter(name="brand.test").exists()

    # The registry raised its price after the client showed 12.00.
    settings.BERTH_REGISTRY_TLDS = {**settings.BERTH_REGISTRY_TLDS, "test": "15.50"}
    stale = api.post("/api/domains", {**request, "confirmPrice": "12.00"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["price"] == "15.50"
    assert "15.50" in stale.json()["error"]["message"]
    assert not RegistryEntry.objects.filter(name="brand.test").exists()

    confirmed = api.post("/api/domains", {**request, "confirmPrice": "15.5"}, format="json")
    assert confirmed.json()["purchase"]["amount"] == 31.0  # two years at the new price
    assert registered_through_api(api, confirmed)["registration"]["status"] == "active"
    # Adding a domain registered elsewhere (the Alt Production Hosting client's request) is free
    # and needs no price.
    added = api.post("/api/domains", {"name": "mine.example"}, format="json")
    assert added.status_code == 201 and added.json()["registration"] is None


def test_attach_to_someone_elses_site_is_refused(api, bob):
    bobs = make_site(bob)
    response = api.post(
        "/api/domains", {"name": "mine.example", "siteId": str(bobs.pk)}, format="json"
    )
    assert response.status_code == 422 and "siteId" in response.json()["error"]["details"]


def test_records_crud_through_the_api(api, alice, pdns):
    domain = registered_through_api(
        api,
        api.post(
            "/api/domains",
            {"name": "shop.test", "register": True, "confirmPrice": "12.00"},
            format="json",
        ),
    )
    base = f"/api/domains/{domain['id']}/records"
    records = api.get(base).json()["records"]
    assert {(r["name"], r["type"]) for r in records} == {("@", "A"), ("www", "CNAME")}
    created = api.post(
        base,
        {"name": "@", "type": "MX", "content": "mail.shop.test", "priority": 10},
        format="json",
    )
    assert created.status_code == 201, created.json()
    record = created.json()
    assert record["fqdn"] == "shop.test" and record["priority"] == 10
    bad = api.post(base, {"name": "www", "type": "A", "content": "192.0.2.1"}, format="json")
    assert bad.status_code == 422 and "CNAME" in bad.json()["error"]["message"]
    bad = api.post(base, {"name": "x", "type": "A", "content": "999.0.0.1"}, format="json")
    assert bad.status_code == 422 and "content" in bad.json()["error"]["details"]
    patched = api.patch(f"{base}/{record['id']}", {"priority": 5}, format="json")
    assert patched.status_code == 200 and patched.json()["priority"] == 5
    assert api.delete(f"{base}/{record['id']}").status_code == 204
    assert api.get(f"{base}/{record['id']}").json()["error"]["code"] == "RECORD_NOT_FOUND"


def test_delete_an_external_domain(api, alice):
    domain = api.post("/api/domains", {"name": "gone.example"}, format="json").json()
    assert api.delete(f"/api/domains/{domain['id']}").status_code == 204
    assert not Domain.objects.filter(pk=domain["id"]).exists()


def test_site_ssl_endpoints_are_scoped(api, alice, bob):
    site = make_site(alice)
    assert api.get(f"/api/sites/{site.pk}/ssl").json() == {"certificates": []}
    response = api.post(f"/api/sites/{site.pk}/ssl", {}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "DOMAIN_NOT_FOUND"
    Domain.objects.create(owner=alice, name="pending.example", site=site)
    response = api.post(f"/api/sites/{site.pk}/ssl", {}, format="json")
    assert response.status_code == 422 and "Verify" in response.json()["error"]["message"]
    bobs = make_site(bob)
    assert api.get(f"/api/sites/{bobs.pk}/ssl").json()["error"]["code"] == "SITE_NOT_FOUND"
    assert bearer_client(bob).get(f"/api/sites/{site.pk}/ssl").status_code == 404


def test_anonymous_is_unauthorized(anon_api):
    assert anon_api.get("/api/domains").status_code == 401


def test_list_query_count_does_not_grow_with_domains(
    api, alice, web, django_assert_max_num_queries
):
    site = make_site(alice)
    for i in range(15):
        domain = Domain.objects.create(owner=alice, name=f"d{i}.example", site=site)
        domain.certificates.create(
            names=[domain.name], challenge="http-01", directory_url="https://ca.example/dir"
        )
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/domains?limit=15").json()["domains"]) == 15
    with django_assert_max_num_queries(14):
        assert web.get("/domains/").status_code == 200


def test_a_pasted_url_is_attached_as_its_host(api, alice):
    site = make_site(alice)
    response = api.post(
        "/api/domains",
        {"name": "https://Shop.Example.ORG/path", "siteId": str(site.pk)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "shop.example.org"
