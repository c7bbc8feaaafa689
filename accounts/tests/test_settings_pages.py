"""The settings tabs: profile, notifications, appearance, API tokens, sessions, log, delete."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import AccessToken, BrowserSession, SecurityEvent, User
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db


def png(size=(8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def test_every_tab_renders(web):
    for tab in (
        "profile",
        "github",
        "notifications",
        "appearance",
        "tokens",
        "sessions",
        "security",
        "account",
    ):
        assert web.get(f"/settings/{tab}/").status_code == 200, tab
    assert web.get("/settings/nope/").status_code == 404


def test_profile_name_and_avatar(web, alice):
    response = web.post("/settings/profile/", {"name": "Alice P. Liddell", "avatar": png()})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Alice P. Liddell" and alice.avatar.name.startswith(f"avatars/{alice.pk}/")
    page = web.get("/settings/profile/").content.decode()
    assert alice.avatar.url in page
    assert web.get(alice.avatar.url).status_code == 200
    # The email is shown read-only and cannot be posted.
    assert 'value="alice@example.com" disabled' in page


def test_profile_rejects_non_images(web, alice):
    bad = SimpleUploadedFile("me.png", b"not an image", content_type="image/png")
    response = web.post("/settings/profile/", {"name": "Alice", "avatar": bad})
    assert response.status_code == 422
    assert "Upload a valid image" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.avatar


def test_notification_toggles(web, alice):
    web.post("/settings/notifications/", {"email_notifications": "on"})
    alice.preferences.refresh_from_db()
    assert alice.preferences.email_notifications
    assert not alice.preferences.deploy_success_notifications
    assert not alice.preferences.deploy_failure_notifications


def test_theme_applies_to_every_page(web):
    assert web.post("/settings/appearance/", {"theme": "dark"}).status_code == 302
    for url in ("/", "/dashboard/", "/settings/profile/", "/accounts/password/change/"):
        assert '<html lang="en" data-theme="dark">' in web.get(url).content.decode(), url
    assert web.post("/settings/appearance/", {"theme": "neon"}).status_code == 422


def test_making_a_token_asks_for_the_password_again_when_the_last_check_is_old(web, alice):
    response = web.post("/settings/tokens/", {"name": "deploy bot", "expires_in_days": "30"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not AccessToken.objects.filter(name="deploy bot").exists()
    resumed = web.post(response["Location"], {"password": PASSWORD}, follow=True)
    assert "deploy bot" in resumed.content.decode()
    assert AccessToken.objects.filter(name="deploy bot").exists()


def test_api_token_is_shown_once_and_can_be_revoked(client, alice):
    client.post("/accounts/login/", {"login": alice.email, "password": PASSWORD})
    web = client
    page = web.post(
        "/settings/tokens/", {"name": "deploy bot", "expires_in_days": "30"}
    ).content.decode()
    raw = re.search(r'<code id="new-token">(brp_[^<]+)</code>', page).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/user/profile").status_code == 200
    listing = web.get("/settings/tokens/").content.decode()
    assert "deploy bot" in listing and raw not in listing
    token = AccessToken.objects.get(name="deploy bot")
    assert web.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert api.get("/api/user/profile").status_code == 401


def test_sessions_tab_signs_other_browsers_out(web, alice):
    laptop = Client(HTTP_USER_AGENT="Laptop browser")
    laptop.post("/accounts/login/", {"login": "alice@example.com", "password": PASSWORD})
    phone_api = bearer_client(alice)
    page = web.get("/settings/sessions/").content.decode()
    assert "Laptop browser" in page and "API sign-ins" in page
    laptop_session = BrowserSession.objects.get(user_agent="Laptop browser")
    web.post(f"/settings/sessions/{laptop_session.pk}/revoke/")
    assert laptop.get("/dashboard/").status_code == 302
    web.post(f"/settings/tokens/{phone_api.token.token.pk}/revoke/")
    assert phone_api.get("/api/user/profile").status_code == 401
    assert web.get("/dashboard/").status_code == 200


def test_security_log_lists_own_events_paginated(web, alice, bob):
    for _ in range(30):
        SecurityEvent.objects.create(
            user=alice, email=alice.email, kind="sign_in", ip_address="192.0.2.1"
        )
    SecurityEvent.objects.create(user=bob, email=bob.email, kind="sign_in", ip_address="192.0.2.99")
    first = web.get("/settings/security/").content.decode()
    assert "192.0.2.1" in first and "192.0.2.99" not in first
    assert "Page 1 of 2" in first
    assert "192.0.2.1" in web.get("/settings/security/?page=2").content.decode()


def test_delete_account_needs_password_and_typed_confirmation(web, alice):
    wrong = web.post(
        "/settings/account/delete/", {"password": "nope", "confirm": "delete my account"}
    )
    assert wrong.status_code == 422 and User.objects.filter(pk=alice.pk).exists()
    untyped = web.post("/settings/account/delete/", {"password": PASSWORD, "confirm": "yes"})
    assert untyped.status_code == 422 and User.objects.filter(pk=alice.pk).exists()
    done = web.post(
        "/settings/account/delete/", {"password": PASSWORD, "confirm": "delete my account"}
    )
    assert done.status_code == 302 and done.url == "/"
    assert not User.objects.filter(pk=alice.pk).exists()
    assert web.get("/dashboard/").status_code == 302


def test_users_cannot_revoke_each_others_tokens_or_sessions(web, bob):
    bob_api = bearer_client(bob)
    assert web.post(f"/settings/tokens/{bob_api.token.token.pk}/revoke/").status_code == 404
    bob_browser = Client()
    bob_browser.force_login(bob)
    bob_session = BrowserSession.objects.get(user=bob)
    assert web.post(f"/settings/sessions/{bob_session.pk}/revoke/").status_code == 404
    assert bob_api.get("/api/user/profile").status_code == 200
    assert bob_browser.get("/dashboard/").status_code == 200
