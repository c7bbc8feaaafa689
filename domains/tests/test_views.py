"""The domain pages: list, search and register, add, detail with verification, zone editor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domains import services
from domains.models import DnsRecord, Domain
from domains.tests.factories import make_site, pay_orders, register_domain

pytestmark = pytest.mark.django_db


def test_the_list_shows_only_my_domains_with_an_empty_state(web, alice, bob):
    response = web.get("/domains/")
    assert response.status_code == 200 and "No domains yet" in response.text
    Domain.objects.create(owner=alice, name="mine.example")
    Domain.objects.create(owner=bob, name="theirs.example")
    response = web.get("/domains/")
    assert "mine.example" in response.text and "theirs.example" not in response.text
    assert 'href="/domains/"' in response.text  # in the navigation


def test_search_then_confirm_the_price_then_register(web, alice):
    """The search's Register button leads to the price (now and at renewal) and a confirm
    button; only confirming pays and registers."""
    site = make_site(alice, name="Shop")
    response = web.get("/domains/search/?q=brand")
    assert "brand.test" in response.text and "12.00 USD" in response.text
    assert 'action="/domains/register/"' in response.text and 'method="get"' in response.text
    confirm = web.get(f"/domains/register/?name=brand.test&years=2&site={site.pk}")
    assert confirm.status_code == 200
    page = confirm.text
    assert "Register brand.test" in page and "Nothing is charged before you do" in page
    assert "12.00 USD" in page and "24.00 USD" in page  # a year, and for the two years now
    assert "Renewal" in page and "Shop" in page
    assert "Pay 24.00 USD and register" in page and 'name="confirm_price" value="12.00"' in page
    assert not Domain.objects.filter(name="brand.test").exists()  # seeing the price is free

    response = web.post(
        "/domains/register/",
        {"name": "brand.test", "years": 2, "site": str(site.pk), "confirm_price": "12.00"},
    )
    # Without online payment the order is invoiced; the name is registered once it is paid.
    assert response.status_code == 302 and response["Location"].startswith("/billing/purchases/")
    assert "done as soon as the invoice is paid" in web.get(response["Location"]).text
    assert not Domain.objects.filter(name="brand.test").exists()
    listed = web.get("/domains/").text
    assert "Awaiting payment" in listed and "Registration of brand.test (2 years)" in listed
    pay_orders()
    assert "Awaiting payment" not in web.get("/domains/").text
    page = web.get(response["Location"]).text
    domain = Domain.objects.get(owner=alice, name="brand.test")
    assert f"/domains/{domain.pk}/" in page and "registered until" in page
    assert domain.site == site and 729 <= domain.days_to_expiry <= 730
    page = web.get(f"/domains/{domain.pk}/").text
    assert "Registration" in page and domain.expires_at.strftime("%-d %b %Y") in page
    response = web.get("/domains/search/?q=brand.test")
    assert "Taken" in response.text and "Available alternatives" in response.text


def test_registering_without_the_current_price_confirmed_charges_nothing(web, alice, settings):
    """A form posted without the price, or with the price of before a change, registers nothing
    and shows the confirmation again with the price now."""
    response = web.post("/domains/register/", {"name": "brand.test", "years": 1, "site": ""})
    assert response.status_code == 409 and "Confirm the price" in response.text
    assert 'name="confirm_price" value="12.00"' in response.text
    settings.BERTH_REGISTRY_TLDS = {**settings.BERTH_REGISTRY_TLDS, "test": "20.00"}
    data = {"name": "brand.test", "years": 1, "site": "", "confirm_price": "12.00"}
    response = web.post("/domains/register/", data)
    assert response.status_code == 409
    assert "is now 20.00 USD a year, not 12.00" in response.text
    assert "Pay 20.00 USD and register" in response.text
    assert not Domain.objects.filter(name="brand.test").exists()
    response = web.post("/domains/register/", {**data, "confirm_price": "20.00"})
    assert response.status_code == 302 and pay_orders()[0].amount == Decimal("20.00")
    assert Domain.objects.get(name="brand.test").is_registered


def test_a_free_name_is_confirmed_too_and_a_taken_one_goes_back_to_search(web, alice, bob):
    page = web.get("/domains/register/?name=brand.berth&years=1").text
    assert "Register for free" in page and 'name="confirm_price" value="0.00"' in page
    register_domain(bob, "taken.test")
    response = web.get("/domains/register/?name=taken.test&years=1", follow=True)
    assert response.redirect_chain[-1][0] == "/domains/search/?q=taken.test"
    assert "taken.test is not available (taken)." in response.text


def test_search_rejects_bad_input(web):
    response = web.get("/domains/search/?q=-bad-")
    assert response.status_code == 422


def test_add_a_domain_shows_the_verification_instructions(web, alice):
    site = make_site(alice, slug="blog")
    response = web.post("/domains/add/", {"name": "www.customer.example", "site": str(site.pk)})
    domain = Domain.objects.get(owner=alice)
    page = web.get(response["Location"]).text
    assert "_berth-verify.www.customer.example" in page and domain.verification_token in page
    assert "blog.sites.localhost" in page  # the CNAME target
    response = web.post("/domains/add/", {"name": "not valid"})
    assert response.status_code == 422 and "letters, digits" in response.text


def test_verify_now_shows_the_current_dns_answer(web, alice, pdns):
    from domains.dns.pdns import PowerDNS, RRset

    domain = services.domain_add(owner=alice, name="customer.example", site=make_site(alice))
    PowerDNS(pdns.api_url, pdns.api_key).zone_create(
        "customer.example",
        ["ns1.elsewhere.net"],
        [RRset("customer.example", "A", 60, ("198.51.100.4",))],
    )
    response = web.post(f"/domains/{domain.pk}/verify/", follow=True)
    assert "Not verified yet" in response.text and "198.51.100.4" in response.text


def test_another_users_domain_pages_are_404(web, bob):
    theirs = Domain.objects.create(owner=bob, name="theirs.example", dns_hosted=True)
    record = DnsRecord.objects.create(domain=theirs, name="@", type="A", content="192.0.2.1")
    for url in (
        f"/domains/{theirs.pk}/",
        f"/domains/{theirs.pk}/dns/",
        f"/domains/{theirs.pk}/dns/{record.pk}/",
    ):
        assert web.get(url).status_code == 404
    for url in (
        f"/domains/{theirs.pk}/delete/",
        f"/domains/{theirs.pk}/verify/",
        f"/domains/{theirs.pk}/dns/{record.pk}/delete/",
    ):
        assert web.post(url).status_code == 404
    assert (
        Domain.objects.filter(pk=theirs.pk).exists()
        and DnsRecord.objects.filter(pk=record.pk).exists()
    )


def test_zone_editor_adds_edits_and_deletes(web, alice, pdns):
    domain = register_domain(owner=alice, name="shop.test")
    response = web.post(
        f"/domains/{domain.pk}/dns/",
        {"name": "api", "type": "A", "content": "192.0.2.9", "ttl": 300},
    )
    assert response.status_code == 302
    record = domain.records.get(name="api")
    response = web.post(
        f"/domains/{domain.pk}/dns/", {"name": "www", "type": "TXT", "content": "x", "ttl": 300}
    )
    assert response.status_code == 422 and "CNAME" in response.text
    response = web.post(
        f"/domains/{domain.pk}/dns/{record.pk}/",
        {"name": "api", "type": "A", "content": "192.0.2.10", "ttl": 600},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.content, record.ttl) == ("192.0.2.10", 600)
    page = web.get(f"/domains/{domain.pk}/dns/").text
    assert "api.shop.test" in page and "192.0.2.10" in page
    web.post(f"/domains/{domain.pk}/dns/{record.pk}/delete/")
    assert not domain.records.filter(pk=record.pk).exists()


def test_attach_renew_and_remove(web, alice):
    site = make_site(alice)
    registered = register_domain(owner=alice, name="brand.test")
    web.post(f"/domains/{registered.pk}/attach/", {"site": str(site.pk), "redirect": "www_to_apex"})
    registered.refresh_from_db()
    assert registered.site == site and registered.redirect == "www_to_apex"
    page = web.get(f"/domains/{registered.pk}/").content.decode()
    # Renewing pays too: the price is on the page and the form asks before it is paid.
    assert "12.00 USD a year" in page
    assert 'data-confirm="Renew brand.test? 12.00 USD is charged now for each year' in page
    before = registered.expires_at
    web.post(f"/domains/{registered.pk}/renew/", {"years": 1})
    registered.refresh_from_db()
    assert registered.expires_at == before  # renewed once paid
    assert [order.amount for order in pay_orders()] == [Decimal("12.00")]
    registered.refresh_from_db()
    assert (registered.expires_at - before).days == 365
    web.post(f"/domains/{registered.pk}/registration/", {"transfer_lock": "on"})
    registered.refresh_from_db()
    assert registered.auto_renew is False and registered.transfer_lock is True
    response = web.post(f"/domains/{registered.pk}/delete/", follow=True)
    assert "stays until its registration ends" in response.text
    external = services.domain_add(owner=alice, name="gone.example")
    response = web.post(f"/domains/{external.pk}/delete/")
    assert (
        response["Location"] == "/domains/" and not Domain.objects.filter(pk=external.pk).exists()
    )


def test_site_pages_can_show_the_sites_domains(rf, alice, bob):
    from django.template import Context, Template

    site = make_site(alice)
    Domain.objects.create(owner=alice, name="mine.example", site=site, is_primary=False)
    Domain.objects.create(owner=bob, name="theirs.example", site=site)  # cannot happen; scoped
    request = rf.get("/")
    request.user = alice
    html = Template("{% load domains_tags %}{% site_domains site %}").render(
        Context({"request": request, "site": site})
    )
    assert "mine.example" in html and "theirs.example" not in html
    assert f"/domains/add/?site={site.pk}" in html


def test_site_overview_lists_the_sites_custom_domains(web, alice, bob):
    site = make_site(alice)
    Domain.objects.create(owner=alice, name="shop.example", site=site)
    Domain.objects.create(owner=bob, name="not-mine.example")
    page = web.get(f"/sites/{site.pk}/").text
    assert "Custom domains" in page and "shop.example" in page
    assert "not-mine.example" not in page
    assert f"/domains/add/?site={site.pk}" in page


def test_an_invalid_renewal_says_why_and_changes_nothing(web, alice):
    domain = register_domain(alice, "steady.test")
    expires = domain.expires_at
    response = web.post(f"/domains/{domain.pk}/renew/", {"years": "99"}, follow=True)
    page = response.text
    assert response.status_code == 200 and 'class="toast toast-error"' in page
    domain.refresh_from_db()
    assert domain.expires_at == expires
