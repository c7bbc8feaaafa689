"""Team tokens act in their team only; making any token asks again when the sign-in is old."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccessToken
from conftest import PASSWORD, bearer_client
from hosting.services import site_create
from teams.models import AuditEvent, Membership, Role, Team
from teams.services import team_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(alice, bob):
    team = team_create(owner=alice, name="Acme")
    Membership.objects.create(team=team, user=bob, role=Role.DEVELOPER)
    return team


def test_a_team_token_acts_in_its_team_only(api, alice, acme):
    personal = Team.objects.get(personal=True, memberships__user=alice)
    mine = site_create(team=personal, owner=alice, name="Mine", slug="alice-mine")
    shared = site_create(team=acme, owner=alice, name="Shared", slug="acme-shared")
    made = api.post("/api/user/tokens", {"name": "CI", "team": str(acme.pk)}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["team"] == str(acme.pk)
    assert AuditEvent.objects.filter(team=acme, action="token.create", actor=alice).exists()
    robot = APIClient()
    robot.credentials(HTTP_AUTHORIZATION=f"Bearer {made.json()['token']}")
    assert [s["name"] for s in robot.get("/api/sites").json()["sites"]] == ["Shared"]
    assert robot.get(f"/api/sites/{shared.pk}").status_code == 200
    assert robot.get(f"/api/sites/{mine.pk}").status_code == 404
    assert robot.get(f"/api/sites?team={personal.pk}").status_code == 404


def test_only_admins_and_owners_make_team_tokens(bob, acme):
    response = bearer_client(bob).post(
        "/api/user/tokens", {"name": "CI", "team": str(acme.pk)}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert not AccessToken.objects.filter(name="CI").exists()


def test_making_a_token_asks_again_when_the_sign_in_is_old(alice):
    api = bearer_client(alice)
    AccessToken.objects.filter(pk=api.token.token.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    asked = api.post("/api/user/tokens", {"name": "CI"}, format="json")
    assert asked.status_code == 401
    assert asked.json()["error"]["code"] == "REAUTHENTICATION_REQUIRED"
    wrong = api.post("/api/user/tokens", {"name": "CI", "password": "nope"}, format="json")
    assert wrong.status_code == 401
    done = api.post("/api/user/tokens", {"name": "CI", "password": PASSWORD}, format="json")
    assert done.status_code == 201


def _signed_in(client, user):
    """A browser that has just signed in with the password (so making tokens asks nothing)."""
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    return client


def test_the_settings_page_makes_team_tokens_for_teams_one_manages(client, alice, acme):
    personal = Team.objects.get(personal=True, memberships__user=alice)
    shared = site_create(team=acme, owner=alice, name="Shared", slug="acme-shared")
    site_create(team=personal, owner=alice, name="Mine", slug="alice-mine")
    web = _signed_in(client, alice)
    form = web.get("/settings/tokens/").content.decode()
    assert "Team: Acme" in form and "Personal: every team I belong to" in form
    made = web.post(
        "/settings/tokens/", {"name": "Acme CI", "expires_in_days": "30", "team": str(acme.pk)}
    )
    assert made.status_code == 200, made.content
    page = made.content.decode()
    raw = re.search(r'<code id="new-token">(brp_[^<]+)</code>', page).group(1)
    assert AccessToken.objects.get(name="Acme CI").team == acme
    assert AuditEvent.objects.filter(team=acme, action="token.create", actor=alice).exists()
    robot = APIClient()
    robot.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert [s["id"] for s in robot.get("/api/sites").json()["sites"]] == [str(shared.pk)]
    listing = web.get("/settings/tokens/").content.decode()
    assert re.search(r"Acme CI</td>.*?<td>Acme</td>", listing, re.S)


def test_a_developer_is_offered_no_team_and_cannot_post_one(client, bob, acme):
    web = _signed_in(client, bob)
    form = web.get("/settings/tokens/").content.decode()
    assert "Team: Acme" not in form
    refused = web.post("/settings/tokens/", {"name": "Sneaky", "team": str(acme.pk)})
    assert refused.status_code == 422
    assert "not one of the available choices" in refused.content.decode()
    assert not AccessToken.objects.filter(name="Sneaky").exists()


def test_ending_a_team_token_is_in_the_teams_log(client, alice, acme):
    made = bearer_client(alice).post(
        "/api/user/tokens", {"name": "CI", "team": str(acme.pk)}, format="json"
    )
    token = AccessToken.objects.get(pk=made.json()["id"])
    web = _signed_in(client, alice)
    assert web.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    revoked = AuditEvent.objects.get(team=acme, action="token.revoke")
    assert revoked.actor == alice and revoked.object_id == str(token.pk)
    # Signing out everywhere ends the others, each in its team's log.
    second = bearer_client(alice).post(
        "/api/user/tokens", {"name": "CD", "team": str(acme.pk)}, format="json"
    )
    assert web.post("/settings/sessions/end-all/").status_code == 302
    assert AuditEvent.objects.filter(
        team=acme, action="token.revoke", object_id=second.json()["id"]
    ).exists()
