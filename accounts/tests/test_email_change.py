"""Changing the sign-in address: the new one is used only after it is confirmed by email."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AccessToken, User
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db


def _signed_in(client, email):
    client.post("/accounts/login/", {"login": email, "password": PASSWORD})
    return client


def test_sign_in_address_changes_after_the_new_one_is_confirmed(client, alice):
    _signed_in(client, alice.email)
    mail.outbox.clear()
    response = client.post("/settings/email/", {"email": "Alice@New.example"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"  # not before it is confirmed
    assert mail.outbox[-1].to == ["alice@new.example"]
    link = re.search(r"https?://\S+/settings/email/confirm/\S+/", mail.outbox[-1].body).group(0)
    path = "/" + link.split("/", 3)[3]
    assert client.get(path).status_code == 200
    client.post(path)
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
    client.post("/accounts/logout/")
    _signed_in(client, "alice@new.example")
    assert client.get("/dashboard/").status_code == 200
    # The link is used up: the account's address no longer matches it.
    client.post(path)
    alice.refresh_from_db()
    assert alice.email == "alice@new.example"


def test_taken_addresses_and_other_accounts_links_are_refused(client, alice, bob):
    _signed_in(client, alice.email)
    assert client.post("/settings/email/", {"email": bob.email}).status_code == 422
    client.post("/settings/email/", {"email": "alice@new.example"})
    path = (
        "/"
        + re.search(r"https?://\S+/settings/email/confirm/\S+/", mail.outbox[-1].body)
        .group(0)
        .split("/", 3)[3]
    )
    client.post("/accounts/logout/")
    _signed_in(client, bob.email)
    client.post(path)
    assert User.objects.get(pk=bob.pk).email == "bob@example.com"
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_changing_the_address_asks_for_the_password_again_when_the_check_is_old(web):
    response = web.post("/settings/email/", {"email": "alice@new.example"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not mail.outbox


def _key(message) -> str:
    return re.search(r"/settings/email/confirm/(\S+)/", message.body).group(1)


def test_the_api_changes_the_address_after_the_link_is_followed(alice):
    api = bearer_client(alice)
    asked = api.post("/api/user/email", {"email": "Alice@New.example"}, format="json")
    assert asked.status_code == 202, asked.content
    assert asked.json()["email"] == "Alice@New.example"
    assert mail.outbox[-1].to == ["alice@new.example"]
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"  # not before it is confirmed
    key = _key(mail.outbox[-1])
    wrong = api.post("/api/user/email/confirm", {"key": key[:-2] + "xx"}, format="json")
    assert wrong.status_code == 422 and "invalid" in wrong.json()["error"]["message"]
    done = api.post("/api/user/email/confirm", {"key": key}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["email"] == "alice@new.example"
    login = bearer_client(alice).post(
        "/api/auth/login", {"email": "alice@new.example", "password": PASSWORD}, format="json"
    )
    assert login.status_code == 200
    # An old sign-in must prove it is still Alice first; a taken address is refused.
    AccessToken.objects.filter(pk=api.token.token.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    again = api.post("/api/user/email", {"email": "third@example.com"}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "REAUTHENTICATION_REQUIRED"
    with_password = api.post(
        "/api/user/email", {"email": "third@example.com", "password": PASSWORD}, format="json"
    )
    assert with_password.status_code == 202


def test_the_api_refuses_a_taken_address_and_anothers_link(alice, bob):
    api = bearer_client(alice)
    taken = api.post("/api/user/email", {"email": bob.email}, format="json")
    assert taken.status_code == 422
    assert taken.json()["error"]["details"] == {"email": ["Another account uses that address."]}
    api.post("/api/user/email", {"email": "alice@new.example"}, format="json")
    stolen = bearer_client(bob).post(
        "/api/user/email/confirm", {"key": _key(mail.outbox[-1])}, format="json"
    )
    assert stolen.status_code == 422
    assert User.objects.get(pk=bob.pk).email == "bob@example.com"
