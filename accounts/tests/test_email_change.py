"""Changing the sign-in address: the new one is used only after it is confirmed by email."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User
from conftest import PASSWORD

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
