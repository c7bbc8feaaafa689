"""A NUL character anywhere in a request's fields is refused once, for every endpoint.

PostgreSQL cannot store or compare text holding NUL: before this check, ``?search=a%00b`` on
the lists answered 500 there. Now the API answers 422 VALIDATION_ERROR and pages answer 400.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hosting.models import Site

pytestmark = pytest.mark.django_db

API_LISTS = ["/api/domains", "/api/sites", "/api/hosting/spaces", "/api/deployments"]
PAGES = ["/sites/", "/domains/", "/deployments/", "/dashboard/"]


def refused(response) -> dict:
    assert response.status_code == 422, response.content[:500]
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["statusCode"] == 422
    assert "NUL" in error["message"]
    return error


@pytest.mark.parametrize("url", API_LISTS)
def test_api_lists_refuse_nul_in_the_query(api, url):
    error = refused(api.get(url + "?search=a%00b"))
    assert error["details"] == {"search": [error["message"]]}
    assert api.get(url + "?search=ab").status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_pages_refuse_nul_in_the_query(web, url):
    response = web.get(url + "?search=a%00b")
    assert response.status_code == 400
    assert "may not contain NUL" in response.content.decode()
    assert web.get(url + "?search=ab").status_code == 200


def test_nul_in_a_parameter_name_is_refused_too(api):
    refused(api.get("/api/sites?a%00b=1"))


def test_json_body_fields_with_nul_are_refused_and_nothing_is_made(api):
    error = refused(api.post("/api/sites/create", {"name": "Shop\u0000"}, format="json"))
    assert error["details"] == {"name": [error["message"]]}
    nested = api.post("/api/sites/create", {"name": "Shop", "x": [{"y": "\u0000"}]}, format="json")
    assert refused(nested)["details"] == {"x[0].y": [nested.json()["error"]["message"]]}
    assert not Site.objects.exists()


def test_a_literal_backslash_u0000_is_just_text(api):
    # JSON "\\u0000" is a backslash and five characters, not NUL: not refused by this check.
    response = api.get("/api/sites?search=" + "%5Cu0000")
    assert response.status_code == 200


def test_form_fields_with_nul_are_refused_by_pages(web):
    response = web.post("/sites/new/", {"name": "Shop\x00", "slug": "shop"})
    assert response.status_code == 400 and "may not contain NUL" in response.content.decode()
    assert not Site.objects.exists()


def test_multipart_fields_with_nul_are_refused_by_the_api(api, alice):
    from hosting.services import site_create

    site = site_create(owner=alice, name="Shop")
    response = api.post(
        f"/api/hosting/spaces/{site.pk}/files",
        {"path": "docs\x00", "file": SimpleUploadedFile("a.txt", b"a")},
        format="multipart",
    )
    assert list(refused(response)["details"]) == ["path"]
