"""Every API error, from DRF or from Django itself, answers in the clients' envelope."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["statusCode"] == status
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


def test_401_without_credentials(anon_api):
    assert_envelope(anon_api.get("/api/user/profile"), 401, "UNAUTHORIZED")


def test_401_with_a_bad_token(anon_api):
    response = anon_api.get("/api/user/profile", HTTP_AUTHORIZATION="Bearer brt_nonsense")
    assert_envelope(response, 401, "UNAUTHORIZED")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.urls("controlpanel.tests.urls")
def test_403_for_a_non_operator(api):
    assert_envelope(api.get("/api/test/operators-only"), 403, "FORBIDDEN")


def test_403_when_a_browser_session_skips_csrf(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = browser.post("/api/user/tokens", {"name": "x"}, content_type="application/json")
    assert_envelope(response, 403, "FORBIDDEN")


def test_404_for_unknown_api_paths(api):
    error = assert_envelope(api.get("/api/no/such/thing"), 404, "NOT_FOUND")
    assert "/api/no/such/thing" in error["message"]


def test_404_pages_stay_html_outside_the_api(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_405_for_a_wrong_method(api):
    assert_envelope(api.delete("/api/auth/session"), 405, "METHOD_NOT_ALLOWED")


def test_422_with_field_details(anon_api):
    error = assert_envelope(
        anon_api.post("/api/auth/login", {"password": "x"}, format="json"), 422, "VALIDATION_ERROR"
    )
    assert "email" in error["details"]


def test_400_for_malformed_json(api):
    response = api.generic(
        "PUT", "/api/user/preferences", "{not json", content_type="application/json"
    )
    assert_envelope(response, 400, "BAD_REQUEST")


def test_429_with_retry_after(api):
    for _ in range(100):
        assert api.get("/api/user/profile").status_code == 200
    response = api.get("/api/user/profile")
    error = assert_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) > 0
    assert error["details"]["retryAfter"] == int(response["Retry-After"])


@pytest.mark.urls("controlpanel.tests.urls")
def test_500_from_an_api_view(alice):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    error = assert_envelope(client.get("/api/test/broken"), 500, "INTERNAL_SERVER_ERROR")
    assert "boom" not in error["message"]  # internals are not leaked


@pytest.mark.urls("controlpanel.tests.urls")
def test_500_pages_outside_the_api_are_html(db):
    client = Client(raise_request_exception=False)
    response = client.get("/test/broken")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


def test_lists_are_paginated_in_the_seed_shape(api):
    for i in range(12):
        api.post("/api/user/tokens", {"name": f"t{i}"}, format="json")
    page = api.get("/api/security/logs?page=2&limit=5").json()
    assert len(page["logs"]) == 5
    assert page["pagination"] == {"currentPage": 2, "totalPages": 3, "totalItems": 12, "limit": 5}
    bad = api.get("/api/security/logs?page=0")
    assert_envelope(bad, 422, "VALIDATION_ERROR")
