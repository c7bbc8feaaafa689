"""Operators find domains, records, certificates and registry entries in the admin."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.urls import reverse

from domains.tests.factories import register_domain

pytestmark = pytest.mark.django_db


def test_every_domains_changelist_searches(client, operator, alice):
    register_domain(owner=alice, name="brand.test")
    client.force_login(operator)
    for model in apps.get_app_config("domains").get_models():
        url = reverse(f"admin:domains_{model._meta.model_name}_changelist")
        response = client.get(url, {"q": "alice"})
        assert response.status_code == 200, url
    page = client.get(reverse("admin:domains_domain_changelist"), {"q": "brand"})
    assert "brand.test" in page.text
