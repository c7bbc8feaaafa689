"""Sign-in providers without keys: their addresses answer 404, not a server error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("provider", ["github", "google"])
def test_unconfigured_provider_login_is_not_found(client, settings, provider):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    for path in (f"/accounts/{provider}/login/", f"/accounts/{provider}/login/callback/"):
        response = client.get(path)
        assert response.status_code == 404, path


def test_sign_in_page_still_renders_without_providers(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"GitHub" not in response.content
