"""Operators pick admin scopes when they make a token in Settings; customers are not offered
them."""

from __future__ import annotations

import pytest

from accounts.models import AccessToken
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_operator_makes_a_read_only_admin_token(client, operator):
    client.post("/accounts/login/", {"login": operator.email, "password": PASSWORD})
    html = client.get("/settings/tokens/").content.decode()
    assert "admin:read" in html
    client.post(
        "/settings/tokens/",
        {"name": "Dashboards", "expires_in_days": "30", "scopes": ["admin:read"]},
    )
    token = AccessToken.objects.get(user=operator, name="Dashboards")
    assert token.scopes == "admin:read"
    assert token.allows("admin:read") and not token.allows("admin:write")


def test_customers_are_not_offered_scopes(client, alice):
    client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    web = client
    assert "admin:read" not in web.get("/settings/tokens/").content.decode()
    web.post(
        "/settings/tokens/", {"name": "CI", "expires_in_days": "30", "scopes": ["admin:write"]}
    )
    assert AccessToken.objects.get(user=alice, name="CI").scopes == ""
