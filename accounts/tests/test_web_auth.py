"""Sign up, sign in (remember me), sign out and password reset in the browser."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import BrowserSession, SecurityEvent, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_landing_page_for_visitors(client):
    page = client.get("/").content.decode()
    assert "Put your sites on the web" in page  # hero
    for feature in ("GitHub integration", "Lightning fast", "Secure by default", "Your domains"):
        assert feature in page
    assert "How it works" in page and page.count('class="card step"') == 3
    assert 'href="/accounts/signup/"' in page


def test_seed_routes_lead_to_the_auth_pages(client):
    assert client.get("/login").url == reverse("account_login")
    assert client.get("/signup").url == reverse("account_signup")
    assert client.get("/forgot-password").url == reverse("account_reset_password")


def test_dashboard_needs_sign_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_sign_up_creates_the_account_and_signs_in(client):
    response = client.post(
        "/accounts/signup/",
        {"name": "Grace Hopper", "email": "grace@example.com", "password1": "cobol compiler 59"},
    )
    assert response.status_code == 302 and response.url == "/dashboard/"
    user = User.objects.get(email="grace@example.com")
    assert user.name == "Grace Hopper"
    assert user.preferences.theme == "system"
    assert "Welcome, Grace" in client.get("/dashboard/").content.decode()
    kinds = list(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert "sign_up" in kinds and "sign_in" in kinds


def test_sign_up_rejects_short_passwords_and_missing_names(client):
    response = client.post(
        "/accounts/signup/", {"name": "", "email": "x@example.com", "password1": "short"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "at least 8 characters" in page and "This field is required" in page
    assert not User.objects.exists()


@pytest.mark.parametrize(("remember", "expires_at_close"), [(True, False), (False, True)])
def test_sign_in_with_and_without_remember_me(client, alice, remember, expires_at_close):
    data = {"login": "alice@example.com", "password": PASSWORD}
    if remember:
        data["remember"] = "on"
    response = client.post("/accounts/login/", data, HTTP_USER_AGENT="Firefox/130")
    assert response.status_code == 302 and response.url == "/dashboard/"
    assert client.session.get_expire_at_browser_close() is expires_at_close
    session = BrowserSession.objects.get(user=alice)
    assert session.user_agent == "Firefox/130" and session.ip_address == "127.0.0.1"


def test_failed_sign_in_is_shown_and_logged(client, alice):
    response = client.post("/accounts/login/", {"login": "alice@example.com", "password": "bad"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert SecurityEvent.objects.filter(kind="sign_in_failed", email="alice@example.com").exists()


def test_sign_out(web, alice):
    response = web.post("/accounts/logout/")
    assert response.status_code == 302
    assert web.get("/dashboard/").status_code == 302
    assert SecurityEvent.objects.filter(user=alice, kind="sign_out").exists()


def test_password_reset_by_email(client, alice, settings):
    settings.PANEL_URL = "https://panel.example.org"
    other_browser = Client()
    other_browser.force_login(alice)
    page = client.get("/accounts/password/reset/").content.decode()
    # The sign-in pages' layout and wording, not allauth's defaults.
    assert 'class="auth-card"' in page and "Reset your password" in page
    assert "Password Reset" not in page
    sent = client.post("/accounts/password/reset/", {"email": "alice@example.com"}, follow=True)
    assert "Check your email" in sent.content.decode()
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.subject == "Berth: Reset your password"
    assert email.body.startswith("Hello from Berth")
    assert "testserver!" not in email.body and "https://panel.example.org" in email.body
    link = re.search(r"http://[^/]+(/accounts/password/reset/key/\S+/)", email.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    html = form.content.decode()
    # The new password is asked once, as on the sign-up page.
    assert html.count('type="password"') == 1 and "Choose a new password" in html
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else link
    done = client.post(set_url, {"password1": "brand new secret 4"}, follow=True)
    assert "Password changed" in done.content.decode()
    alice.refresh_from_db()
    assert alice.check_password("brand new secret 4")
    # Other signed-in browsers are signed out by a reset.
    assert other_browser.get("/dashboard/").status_code == 302
    assert SecurityEvent.objects.filter(user=alice, kind="password_reset").exists()


def test_a_used_reset_link_says_it_expired(client, alice):
    client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    link = re.search(r"http://[^/]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    alice.set_password("changed meanwhile 9")
    alice.save()
    page = client.get(link.group(1), follow=True).content.decode()
    assert "This link has expired" in page and "Send a new link" in page
    assert "Bad Token" not in page


def test_password_change_is_logged(web, alice):
    response = web.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "changed secret 11",
            "password2": "changed secret 11",
        },
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("changed secret 11")
    assert SecurityEvent.objects.filter(user=alice, kind="password_changed").exists()


def test_oauth_buttons_show_only_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert "Continue with GitHub" not in client.get("/accounts/login/").content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APPS": [{"client_id": "id", "secret": "s"}]},
        "google": {"APPS": [{"client_id": "id", "secret": "s"}]},
    }
    page = client.get("/accounts/login/").content.decode()
    assert "Continue with GitHub" in page and "Continue with Google" in page
