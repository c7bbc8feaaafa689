"""Access look-ups kept per process: a change made anywhere takes effect at the next request.

"Another process" is this one with its own kept answers left in place: only the access
generation in Redis can tell it that they are stale.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as accounts
from accounts.models import AccessToken
from conftest import bearer_client
from controlpanel import access
from teams import services as teams
from teams.models import Membership, Role
from teams.permissions import role_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def elsewhere(monkeypatch):
    """Changes are made "in another process": this one's kept answers are not cleared."""
    monkeypatch.setattr(access.LookupCache, "forget_all", classmethod(lambda cls: None))


def token_queries(client) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as seen:
        status = client.get("/api/deployments").status_code
    return status, [q["sql"] for q in seen.captured_queries if "accounts_accesstoken" in q["sql"]]


def test_a_kept_token_is_not_looked_up_again_and_its_revocation_refuses_at_once(alice, elsewhere):
    client = bearer_client(alice)
    assert token_queries(client)[0] == 200
    status, lookups = token_queries(client)
    assert status == 200 and lookups == []  # kept by the process
    accounts.token_revoke(token=AccessToken.objects.get(pk=client.token.token.pk))
    assert token_queries(client)[0] == 401


def test_a_kept_token_still_expires_on_time(alice, elsewhere, monkeypatch):
    client = bearer_client(alice)
    token = client.token.token
    assert client.get("/api/deployments").status_code == 200
    later = token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.get("/api/deployments").status_code == 401


def test_a_deactivated_user_is_refused_at_once(alice, elsewhere):
    client = bearer_client(alice)
    assert client.get("/api/deployments").status_code == 200
    alice.is_active = False
    alice.save()
    assert client.get("/api/deployments").status_code == 401


def test_kept_roles_follow_role_changes_and_removal_at_once(alice, bob, elsewhere):
    team = teams.team_create(owner=alice, name="Crew")
    membership = Membership.objects.create(team=team, user=bob, role=Role.DEVELOPER)

    def role_now():
        user = type(bob).objects.get(pk=bob.pk)  # a new request's user
        access.remember_generation(user, access.generation())
        return role_of(user, team.pk)

    assert role_now() == Role.DEVELOPER
    assert role_now() == Role.DEVELOPER  # kept
    teams.member_role_change(membership=membership, role=Role.VIEWER, actor=alice)
    assert role_now() == Role.VIEWER
    Membership.objects.filter(pk=membership.pk).update(role=Role.ADMIN)  # a bulk update
    assert role_now() == Role.ADMIN
    teams.member_remove(membership=Membership.objects.get(pk=membership.pk), actor=alice)
    assert role_now() is None


def test_only_changes_of_access_count(alice):
    before = access.generation()
    AccessToken.objects.filter(user=alice).update(last_used_at=timezone.now())
    alice.last_login = timezone.now()
    alice.save(update_fields=["last_login"])
    assert access.generation() == before
    AccessToken.objects.filter(user=alice).update(revoked_at=timezone.now())
    assert access.generation() > before
