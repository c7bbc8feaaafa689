"""Operators see every model in the Django admin, searchable and filterable."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def our_apps() -> set[str]:
    """Every app of this repository's, so a new app's models are held to the same rule."""
    # A virtualenv may sit inside the checkout: its packages are not ours.
    return {
        config.label
        for config in apps.get_app_configs()
        if config.models_module
        and Path(config.path).resolve().is_relative_to(ROOT)
        and "site-packages" not in Path(config.path).parts
    }


def our_models():
    return [m for m in apps.get_models() if m._meta.app_label in our_apps()]


def test_every_model_is_registered_with_search_and_filters():
    missing = [m.__name__ for m in our_models() if m not in admin.site._registry]
    assert missing == []
    for model in our_models():
        model_admin = admin.site._registry[model]
        if model._meta.auto_created:
            continue
        assert model_admin.search_fields, f"{model.__name__} has no search"
        assert model_admin.list_filter, f"{model.__name__} has no filters"


def test_operator_can_search_every_changelist(client, operator, alice):
    client.force_login(operator)
    for model in our_models():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url, {"q": "alice"}).status_code == 200, url


def test_operators_see_everyones_security_log(client, operator, alice, anon_api):
    anon_api.post(
        "/api/auth/login", {"email": "alice@example.com", "password": "wrong"}, format="json"
    )
    client.force_login(operator)
    page = client.get(reverse("admin:accounts_securityevent_changelist"), {"q": "alice"})
    assert b"Failed sign-in" in page.content


def test_users_cannot_open_the_admin(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_sections_and_models_have_readable_names(client, operator):
    client.force_login(operator)
    page = client.get(reverse("admin:index")).content.decode()
    for name in ("Manifest entries", "GitHub connections", "DNS records", "ACME accounts"):
        assert name in page
    for wrong in ("entrys", "Git hub", "Dns record", "Acme account"):
        assert wrong not in page
    sections = {}
    for model in admin.site._registry:
        config = model._meta.app_config
        sections.setdefault(str(config.verbose_name).lower(), set()).add(config.label)
    assert [name for name, labels in sections.items() if len(labels) > 1] == []


def test_the_admin_carries_berths_name_and_icon(client, operator):
    client.force_login(operator)
    page = client.get(reverse("admin:index")).content.decode()
    assert "<title>Site administration | Berth admin</title>" in page
    assert "Berth administration" in page and "Django administration" not in page
    # Without an icon of its own, a browser asks for /favicon.ico, which answers 404.
    assert 'rel="icon" href="/static/img/favicon' in page
    login = Client().get(reverse("admin:login")).content.decode()
    assert 'rel="icon"' in login and "Berth administration" in login
