"""Reserved site addresses, refused alike by the API, the create form and the live check.

``ns1`` / ``ns2`` would shadow Berth's default nameservers (ns1.<SITES_DOMAIN>), ``localhost``
and ``mail`` the machine's own names, ``status`` a status page visitors trust; a punycode
label spelling one of them with look-alike letters is refused too.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from hosting.models import Site
from hosting.slugs import slug_problem

pytestmark = pytest.mark.django_db

RESERVED = ["ns1", "ns2", "localhost", "www", "mail", "admin", "api", "status", "panel"]
# аdmin with a Cyrillic "а", ádmin with an accent, ѕtatus with a Cyrillic "ѕ"
LOOKALIKES = ["xn--dmin-43d", "xn--dmin-4na", "xn--tatus-g2e"]


@pytest.mark.parametrize("slug", RESERVED + LOOKALIKES)
def test_api_form_and_live_check_refuse_reserved_addresses(api, web, slug):
    answer = api.post("/api/sites/create", {"name": "Mine", "slug": slug}, format="json")
    assert answer.status_code == 422, slug
    message = answer.json()["error"]["details"]["slug"][0]
    assert "reserved" in message

    page = web.post("/sites/new/", {"name": "Mine", "slug": slug})
    assert page.status_code == 422 and "reserved" in page.content.decode()

    check = web.get(reverse("hosting:address-check"), {"name": "Mine", "slug": slug}).json()
    assert check["available"] is False and "reserved" in check["message"]
    assert check["suggestion"] not in RESERVED
    assert not Site.objects.exists()


def test_names_that_only_start_like_reserved_ones_are_fine(api):
    for slug in ("status-page", "mailbox", "my-api", "xn--caf-dma"):  # café is a fine name
        answer = api.post("/api/sites/create", {"name": slug, "slug": slug}, format="json")
        assert answer.status_code == 201, (slug, answer.content)


def test_suggestions_never_land_on_a_reserved_name(web):
    check = web.get(reverse("hosting:address-check"), {"name": "Status"}).json()
    assert check["available"] is True and check["slug"] == "status-site"


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("xn--zz", "not a valid encoded"),
        ("ab--cd", "third and fourth"),
        ("ns3", "reserved"),
    ],
)
def test_encoded_and_hyphenated_labels(slug, reason):
    assert reason in (slug_problem(slug) or "")


def test_own_nameservers_under_the_sites_domain_are_reserved(settings):
    settings.DNS_NAMESERVERS = ["dns-a.localhost", "dns-b.localhost", "ns.other.example"]
    assert "reserved" in slug_problem("dns-a")
    assert slug_problem("dns-c") is None
