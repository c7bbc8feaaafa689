"""Sign-up, sign-in, tokens and password reset over the REST API, in every client's spelling."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccessToken, SecurityEvent, User
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/auth/signup", "/api/auth/register"])
def test_signup_returns_tokens_and_the_user(anon_api, path):
    response = anon_api.post(
        path,
        {"name": "Ada", "email": "Ada@Example.com", "password": "analytical engine"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["name"] == "Ada"
    assert body["user"]["plan"] == "free"
    assert body["user"]["status"] == "active"
    assert body["user"]["sites"] == 0
    assert body["tokenType"] == "Bearer"
    assert body["accessToken"] == body["token"] and body["refreshToken"]
    # The new token works at once.
    me = anon_api.get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com"


def test_signup_hashes_the_password_with_argon2(anon_api, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    anon_api.post(
        "/api/auth/signup",
        {"name": "Ada", "email": "ada@example.com", "password": "analytical engine"},
    )
    user = User.objects.get(email="ada@example.com")
    assert user.password.startswith("argon2$")
    assert "analytical" not in user.password


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "A", "email": "not-an-email", "password": "longenough1"}, "email"),
        ({"name": "A", "email": "a@example.com", "password": "short"}, "password"),
        ({"name": "A", "email": "a@example.com", "password": "12345678901"}, "password"),
        ({"name": "A", "email": "a@example.com"}, "password"),
    ],
)
def test_signup_rejects_bad_input_with_422(anon_api, payload, field):
    response = anon_api.post("/api/auth/signup", payload, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["statusCode"] == 422
    assert field in error["details"]
    assert not User.objects.exists()


def test_signup_refuses_an_address_already_in_use(anon_api, alice):
    response = anon_api.post(
        "/api/auth/signup",
        {"name": "X", "email": "ALICE@example.com", "password": "another pass 1"},
    )
    assert response.status_code == 422
    assert "email" in response.json()["error"]["details"]


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/v1/auth/login"])
def test_login_returns_access_and_refresh_tokens(anon_api, alice, path):
    response = anon_api.post(
        path, {"email": "alice@example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == str(alice.pk)
    assert body["accessToken"].startswith("brt_") and body["refreshToken"].startswith("brr_")
    assert body["expiresIn"] == 3600  # the whole lifetime (it said 3599)
    token = AccessToken.objects.get(user=alice)
    # Only digests are stored.
    assert body["accessToken"] not in (token.access_digest, token.refresh_digest)
    assert SecurityEvent.objects.filter(user=alice, kind="sign_in").exists()


def test_v1_login_takes_the_oauth2_form_spelling(anon_api, alice):
    response = anon_api.post(
        "/api/v1/auth/login", {"username": "alice@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["access_token"] == body["accessToken"]


def test_wrong_password_is_401_and_logged_as_failed_sign_in(anon_api, alice):
    response = anon_api.post(
        "/api/auth/login",
        {"email": "alice@example.com", "password": "wrong"},
        format="json",
        HTTP_USER_AGENT="curl/8",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    event = SecurityEvent.objects.get(kind="sign_in_failed", email="alice@example.com")
    assert event.user == alice
    assert event.ip_address == "203.0.113.9" and event.user_agent == "curl/8"


def test_logout_ends_the_token_at_once(alice):
    client = bearer_client(alice)
    assert client.get("/api/auth/session").status_code == 200
    assert client.post("/api/auth/logout").status_code == 200
    response = client.get("/api/auth/session")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_session_describes_the_caller(alice):
    client = bearer_client(alice)
    body = client.get("/api/auth/session").json()
    assert body["user"]["email"] == "alice@example.com"
    assert body["session"]["type"] == "login"
    assert body["session"]["expiresAt"]


def test_expired_access_token_is_401_until_refreshed(alice):
    client = bearer_client(alice)
    AccessToken.objects.filter(user=alice).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/user/profile").status_code == 401

    AccessToken.objects.filter(user=alice).update(created_at=timezone.now() - timedelta(days=2))
    refreshed = APIClient().post(
        "/api/auth/refresh", {"refreshToken": client.token.refresh}, format="json"
    )
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["expiresIn"] == 3600  # a fresh hour, however old the sign-in
    ok = APIClient().get("/api/user/profile", HTTP_AUTHORIZATION=f"Bearer {new['accessToken']}")
    assert ok.status_code == 200
    # Rotation: the old refresh token is spent.
    again = APIClient().post(
        "/api/auth/refresh", {"refreshToken": client.token.refresh}, format="json"
    )
    assert again.status_code == 401


def test_expired_refresh_token_cannot_refresh(alice):
    client = bearer_client(alice)
    AccessToken.objects.filter(user=alice).update(refresh_expires_at=timezone.now())
    response = APIClient().post("/api/auth/refresh", {"refresh_token": client.token.refresh})
    assert response.status_code == 401


def test_revoked_personal_token_is_401(api, alice):
    created = api.post("/api/user/tokens", {"name": "ci", "expiresInDays": 30}, format="json")
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("brp_")
    personal = APIClient()
    personal.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert personal.get("/api/user/profile").status_code == 200
    listed = api.get("/api/user/tokens").json()["tokens"]
    assert [t["name"] for t in listed] == ["ci"] and "token" not in listed[0]

    assert api.delete(f"/api/user/tokens/{created.json()['id']}").status_code == 204
    assert personal.get("/api/user/profile").status_code == 401
    kinds = set(SecurityEvent.objects.filter(user=alice).values_list("kind", flat=True))
    assert {"token_created", "token_revoked"} <= kinds


def test_forgot_and_reset_password(anon_api, alice):
    response = anon_api.post("/api/auth/forgot-password", {"email": "alice@example.com"})
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    key = re.search(r"/password/reset/key/([0-9a-z]+-[^/]+)/", mail.outbox[0].body).group(1)
    old_session = bearer_client(alice)

    bad = anon_api.post(
        "/api/auth/reset-password", {"token": key + "x", "password": "new password 9"}
    )
    assert bad.status_code == 422

    done = anon_api.post("/api/auth/reset-password", {"token": key, "password": "new password 9"})
    assert done.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password("new password 9")
    # Every earlier session ends with a reset.
    assert old_session.get("/api/user/profile").status_code == 401
    # The key works once.
    reused = anon_api.post("/api/auth/reset-password", {"token": key, "password": "other pass 77"})
    assert reused.status_code == 422


def test_forgot_password_answers_the_same_for_unknown_addresses(anon_api, db):
    response = anon_api.post("/api/auth/forgot-password", {"email": "nobody@example.com"})
    assert response.status_code == 200
    assert "reset link" in response.json()["message"]


def test_profile_read_and_update(api, alice):
    body = api.get("/api/user/profile").json()
    assert body["name"] == "Alice Liddell" and body["avatarUrl"] is None
    updated = api.put("/api/user/profile", {"name": "Alice L."}, format="json")
    assert updated.status_code == 200 and updated.json()["name"] == "Alice L."
    refused = api.put("/api/user/profile", {"email": "new@example.com"}, format="json")
    assert refused.status_code == 422
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_preferences_in_seed_spelling(api):
    body = api.get("/api/user/preferences").json()
    assert body["theme"] == "system"
    assert body["emailNotifications"] and body["deploymentSuccessNotifications"]
    updated = api.put(
        "/api/user/preferences",
        {"theme": "dark", "deploymentFailureNotifications": False},
        format="json",
    ).json()
    assert updated["theme"] == "dark" and updated["deploymentFailureNotifications"] is False
    bad = api.put("/api/user/preferences", {"theme": "purple"}, format="json")
    assert bad.status_code == 422 and "theme" in bad.json()["error"]["details"]


def test_security_logs_are_the_callers_own(api, alice, bob):
    bearer_client(bob).post("/api/auth/logout")
    api.post("/api/user/tokens", {"name": "mine"}, format="json")
    body = api.get("/api/security/logs").json()
    assert body["pagination"]["totalItems"] == len(body["logs"]) >= 1
    assert all(log["email"] == "alice@example.com" for log in body["logs"])
    assert {"event", "ipAddress", "userAgent", "timestamp"} <= set(body["logs"][0])


def test_delete_account_needs_the_password(api, alice):
    wrong = api.delete("/api/user/account", {"password": "nope"}, format="json")
    assert wrong.status_code == 422
    assert api.delete("/api/user/account", {"password": PASSWORD}, format="json").status_code == 204
    assert not User.objects.filter(pk=alice.pk).exists()
    deletion = SecurityEvent.objects.get(kind="account_deleted")
    assert deletion.email == "alice@example.com" and deletion.user is None
    assert api.get("/api/user/profile").status_code == 401


def test_sessions_list_and_revoke(alice):
    first, second = bearer_client(alice), bearer_client(alice)
    sessions = first.get("/api/user/sessions").json()["sessions"]
    assert len(sessions) == 2
    other = next(s for s in sessions if not s["current"])
    assert first.delete(f"/api/user/sessions/{other['id']}").status_code == 204
    assert second.get("/api/user/profile").status_code == 401
    assert first.get("/api/user/profile").status_code == 200


def test_users_cannot_touch_each_others_tokens_or_sessions(alice, bob):
    alice_client, bob_client = bearer_client(alice), bearer_client(bob)
    token = alice_client.post("/api/user/tokens", {"name": "secret"}, format="json").json()
    assert bob_client.delete(f"/api/user/tokens/{token['id']}").status_code == 404
    assert bob_client.delete(f"/api/user/sessions/{alice_client.token.token.pk}").status_code == 404
    assert bob_client.get("/api/user/tokens").json()["tokens"] == []
    assert alice_client.get("/api/user/profile").status_code == 200


def test_delete_account_removes_sites_and_their_files(
    api, alice, django_capture_on_commit_callbacks
):
    from django.core.files.storage import storages

    from hosting.models import Site

    created = api.post("/api/sites/create", {"name": "Blog"}, format="json")
    assert created.status_code == 201, created.content
    site_id = created.json()["id"]
    upload = api.post(
        f"/api/hosting/spaces/{site_id}/files",
        {"file": io.BytesIO(b"<h1>hi</h1>")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    store = storages["sitefiles"]
    names = store.listdir(site_id)[1]
    assert names
    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete("/api/user/account", {"password": PASSWORD}, format="json")
    assert response.status_code == 204
    assert not Site.objects.filter(pk=site_id).exists()
    assert not any(store.exists(f"{site_id}/{name}") for name in names)
