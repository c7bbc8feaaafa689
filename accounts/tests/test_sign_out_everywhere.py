"""A password change signs out everything else; "Sign out everywhere" signs out everything.

Before, a password changed in the browser left every API sign-in (access and refresh tokens)
and personal token working: whoever held one kept the account.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import BrowserSession, SecurityEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new secret 12"


def browser(user_agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    credentials = {"login": "alice@example.com", "password": PASSWORD}
    signed_in = client.post("/accounts/login/", credentials)
    assert signed_in.status_code == 302
    return client


def api_credentials(alice) -> dict:
    login = APIClient().post(
        "/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200
    access = login.json()["accessToken"]
    made = APIClient(HTTP_AUTHORIZATION=f"Bearer {access}").post(
        "/api/user/tokens", {"name": "deploy script"}, format="json"
    )
    assert made.status_code == 201, made.content
    personal = made.json()["token"]
    return {"access": access, "refresh": login.json()["refreshToken"], "personal": personal}


def works(credentials: dict) -> dict:
    def session(token):
        return APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/auth/session").status_code

    refreshed = APIClient().post(
        "/api/auth/refresh", {"refreshToken": credentials["refresh"]}, format="json"
    )
    return {
        "access": session(credentials["access"]) == 200,
        "personal": session(credentials["personal"]) == 200,
        "refresh": refreshed.status_code == 200,
    }


def test_password_change_ends_every_other_session_and_api_token(alice):
    laptop, phone = browser("Laptop/1"), browser("Phone/1")
    credentials = api_credentials(alice)
    changed = laptop.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    # The browser that changed it stays signed in; the other one is signed out.
    assert laptop.get("/dashboard/").status_code == 200
    assert phone.get("/dashboard/").status_code == 302
    assert works(credentials) == {"access": False, "personal": False, "refresh": False}
    # The sessions page lists this browser alone, still marked as this one.
    page = laptop.get("/settings/sessions/").content.decode()
    assert "Laptop/1" in page and "Phone/1" not in page and "This browser" in page
    assert list(BrowserSession.objects.values_list("user_agent", flat=True)) == ["Laptop/1"]
    assert SecurityEvent.objects.filter(user=alice, kind="password_changed").exists()


def test_sign_out_everywhere_ends_every_session_this_one_too(alice):
    laptop, phone = browser("Laptop/1"), browser("Phone/1")
    credentials = api_credentials(alice)
    page = laptop.get("/settings/sessions/").content.decode()
    assert "Sign out everywhere" in page
    done = laptop.post("/settings/sessions/end-all/")
    assert done.status_code == 302 and done.url.startswith("/accounts/login/")
    assert laptop.get("/dashboard/").status_code == 302
    assert phone.get("/dashboard/").status_code == 302
    assert works(credentials) == {"access": False, "personal": False, "refresh": False}
    assert not BrowserSession.objects.filter(user=alice).exists()
    everywhere = SecurityEvent.objects.filter(user=alice, kind="sign_out", details__everywhere=True)
    assert everywhere.get().details["browsers"] == 2


def test_sign_out_everywhere_takes_a_post_from_a_signed_in_user(client, alice):
    assert client.get("/settings/sessions/end-all/").status_code == 302  # to the sign-in page
    client.force_login(alice)
    assert client.get("/settings/sessions/end-all/").status_code == 405
