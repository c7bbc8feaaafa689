"""Teams over the REST API, as an integration would use them: a team made, a person invited by
email who accepts with the key from the link, roles changed and enforced, ownership handed on,
people leaving and removed, invitations withdrawn, the audit log read and filtered."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from conftest import bearer_client, make_user
from controlpanel.tests.test_api_schema import (  # noqa: F401 (fixtures)
    CHECKS,
    api_schema,
    bearer,
    raised_rate_limits,
    same_connection,
)
from teams.models import AuditEvent, Invitation, Membership, Role, Team
from teams.services import team_create

pytestmark = pytest.mark.django_db


def _key(message) -> str:
    return re.search(r"/invitations/([\w-]+)/", message.body).group(1)


def _error(response) -> str:
    return response.json()["error"]["code"]


def test_invite_accept_and_work_together_through_the_api(alice):
    owner = bearer_client(alice)
    made = owner.post("/api/teams", {"name": "Acme"}, format="json")
    assert made.status_code == 201, made.content
    team = made.json()
    assert team["role"] == "owner" and team["memberCount"] == 1 and team["current"] is True
    pk = team["id"]

    invited = owner.post(
        f"/api/teams/{pk}/invitations", {"email": "Bob@Example.com", "role": "developer"}, "json"
    )
    assert invited.status_code == 201, invited.content
    assert invited.json()["email"] == "bob@example.com" and invited.json()["status"] == "pending"
    assert mail.outbox[-1].to == ["bob@example.com"]
    key = _key(mail.outbox[-1])
    listed = owner.get(f"/api/teams/{pk}/invitations").json()["invitations"]
    assert [i["email"] for i in listed] == ["bob@example.com"]

    bob = make_user("bob@example.com", "Bob Builder")
    as_bob = bearer_client(bob)
    shown = as_bob.get(f"/api/invitations/{key}").json()
    assert shown["team"] == {"id": pk, "name": "Acme"} and shown["role"] == "developer"
    joined = as_bob.post(f"/api/invitations/{key}/accept")
    assert joined.status_code == 200, joined.content
    assert joined.json()["role"] == "developer" and joined.json()["current"] is True
    assert as_bob.post(f"/api/invitations/{key}/accept").status_code == 422  # used up

    members = owner.get(f"/api/teams/{pk}/members").json()
    assert [(m["email"], m["role"]) for m in members["members"]] == [
        ("alice@example.com", "owner"),
        ("bob@example.com", "developer"),
    ]
    assert members["pagination"]["totalItems"] == 2

    # Bob, a developer, creates a site in the team he now acts in; Alice sees it.
    site = as_bob.post("/api/sites", {"name": "Shop", "slug": "acme-shop"}, format="json")
    assert site.status_code == 201, site.content
    assert [s["name"] for s in owner.get(f"/api/sites?team={pk}").json()["sites"]] == ["Shop"]

    # Demoted to viewer, he reads but no longer changes anything.
    demoted = owner.patch(f"/api/teams/{pk}/members/{bob.pk}", {"role": "viewer"}, "json")
    assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"
    refused = as_bob.post("/api/sites", {"name": "Blog", "slug": "acme-blog"}, format="json")
    assert refused.status_code == 403 and _error(refused) == "FORBIDDEN"
    assert "viewer" in refused.json()["error"]["message"]
    assert as_bob.get(f"/api/sites/{site.json()['id']}").status_code == 200
    no_invites = as_bob.post(f"/api/teams/{pk}/invitations", {"email": "x@example.com"}, "json")
    assert no_invites.status_code == 403

    events = owner.get(f"/api/teams/{pk}/audit").json()["events"]
    actions = [e["action"] for e in events]
    assert {"team.create", "invitation.create", "member.join", "member.role"} <= set(actions)
    role_change = next(e for e in events if e["action"] == "member.role")
    assert role_change["actor"] == "alice@example.com"
    assert role_change["details"] == {"from": "developer", "to": "viewer"}
    by_bob = owner.get(f"/api/teams/{pk}/audit?actorId={bob.pk}").json()["events"]
    assert by_bob and all(e["actorId"] == str(bob.pk) for e in by_bob)
    members_only = owner.get(f"/api/teams/{pk}/audit?action=member.").json()["events"]
    assert {e["action"] for e in members_only} == {"member.join", "member.role"}
    assert as_bob.get(f"/api/teams/{pk}/audit").status_code == 403


def test_ownership_is_handed_on_then_the_old_owner_leaves(alice, bob):
    acme = team_create(owner=alice, name="Acme")
    Membership.objects.create(team=acme, user=bob, role=Role.ADMIN)
    owner = bearer_client(alice)
    alone = owner.post(f"/api/teams/{acme.pk}/leave")
    assert alone.status_code == 422 and "Transfer" in alone.json()["error"]["message"]
    handed = owner.post(f"/api/teams/{acme.pk}/transfer", {"userId": str(bob.pk)}, "json")
    assert handed.status_code == 200, handed.content
    assert handed.json()["role"] == "admin"
    assert Membership.objects.get(team=acme, user=bob).role == Role.OWNER
    assert owner.post(f"/api/teams/{acme.pk}/leave").status_code == 204
    assert not Membership.objects.filter(team=acme, user=alice).exists()
    assert owner.get(f"/api/teams/{acme.pk}").status_code == 404
    assert [t["name"] for t in owner.get("/api/teams").json()["teams"]] == ["Alice Liddell's team"]


def test_admins_manage_members_but_not_owners_or_the_team_itself(alice, bob, charlie):
    acme = team_create(owner=alice, name="Acme")
    Membership.objects.create(team=acme, user=bob, role=Role.ADMIN)
    Membership.objects.create(team=acme, user=charlie, role=Role.VIEWER)
    admin = bearer_client(bob)
    owner_change = admin.patch(f"/api/teams/{acme.pk}/members/{alice.pk}", {"role": "viewer"})
    assert owner_change.status_code == 422
    assert admin.delete(f"/api/teams/{acme.pk}/members/{alice.pk}").status_code == 422
    to_owner = admin.patch(f"/api/teams/{acme.pk}/members/{charlie.pk}", {"role": "owner"}, "json")
    assert to_owner.status_code == 422 and "role" in to_owner.json()["error"]["details"]
    assert admin.delete(f"/api/teams/{acme.pk}/members/{charlie.pk}").status_code == 204
    assert not Membership.objects.filter(team=acme, user=charlie).exists()
    transfer = admin.post(f"/api/teams/{acme.pk}/transfer", {"userId": str(bob.pk)}, "json")
    assert transfer.status_code == 403
    delete = admin.delete(f"/api/teams/{acme.pk}", {"confirm": "Acme"}, format="json")
    assert delete.status_code == 403
    renamed = admin.patch(f"/api/teams/{acme.pk}", {"requireTwoFactor": True}, format="json")
    assert renamed.status_code == 200 and renamed.json()["requireTwoFactor"] is True
    assert AuditEvent.objects.filter(team=acme, action="member.remove", actor=bob).exists()


def test_deleting_a_team_asks_for_its_name(alice):
    acme = team_create(owner=alice, name="Acme")
    owner = bearer_client(alice)
    wrong = owner.delete(f"/api/teams/{acme.pk}", {"confirm": "acme"}, format="json")
    assert wrong.status_code == 422 and "confirm" in wrong.json()["error"]["details"]
    assert (
        owner.delete(f"/api/teams/{acme.pk}", {"confirm": "Acme"}, format="json").status_code == 204
    )
    assert not Team.objects.filter(pk=acme.pk).exists()
    personal = Team.objects.get(personal=True, memberships__user=alice)
    refused = owner.delete(f"/api/teams/{personal.pk}", {"confirm": personal.name}, format="json")
    assert refused.status_code == 422


def test_invitations_are_resent_revoked_and_declined(alice, bob):
    acme = team_create(owner=alice, name="Acme")
    owner = bearer_client(alice)
    first = owner.post(f"/api/teams/{acme.pk}/invitations", {"email": "bob@example.com"}, "json")
    old_key = _key(mail.outbox[-1])
    resent = owner.post(f"/api/teams/{acme.pk}/invitations/{first.json()['id']}/resend")
    assert resent.status_code == 200 and len(mail.outbox) == 2
    new_key = _key(mail.outbox[-1])
    assert new_key != old_key
    as_bob = bearer_client(bob)
    assert as_bob.get(f"/api/invitations/{old_key}").status_code == 404
    assert as_bob.post(f"/api/invitations/{new_key}/decline").status_code == 204
    assert Invitation.objects.get(pk=first.json()["id"]).status == Invitation.Status.DECLINED

    second = owner.post(f"/api/teams/{acme.pk}/invitations", {"email": "bob@example.com"}, "json")
    key = _key(mail.outbox[-1])
    revoked = owner.delete(f"/api/teams/{acme.pk}/invitations/{second.json()['id']}")
    assert revoked.status_code == 204
    late = as_bob.post(f"/api/invitations/{key}/accept")
    assert late.status_code == 422 and "withdrawn" in late.json()["error"]["message"]
    assert not Membership.objects.filter(team=acme, user=bob).exists()


def test_someone_elses_invitation_cannot_be_taken(alice, bob, charlie):
    acme = team_create(owner=alice, name="Acme")
    bearer_client(alice).post(f"/api/teams/{acme.pk}/invitations", {"email": "bob@example.com"})
    key = _key(mail.outbox[-1])
    taken = bearer_client(charlie).post(f"/api/invitations/{key}/accept")
    assert taken.status_code == 422 and "bob@example.com" in taken.json()["error"]["message"]
    assert not Membership.objects.filter(team=acme, user=charlie).exists()
    assert APIClient().get(f"/api/invitations/{key}").status_code == 401


def test_another_teams_objects_answer_404(alice, bob, charlie):
    acme = team_create(owner=alice, name="Acme")
    invitation = Invitation.objects.create(team=acme, email="erin@example.com", role=Role.VIEWER)
    outsider = bearer_client(charlie)
    for method, path in [
        ("get", f"/api/teams/{acme.pk}"),
        ("get", f"/api/teams/{acme.pk}/members"),
        ("get", f"/api/teams/{acme.pk}/audit"),
        ("patch", f"/api/teams/{acme.pk}/members/{alice.pk}"),
        ("delete", f"/api/teams/{acme.pk}/invitations/{invitation.pk}"),
        ("post", f"/api/teams/{acme.pk}/switch"),
    ]:
        response = getattr(outsider, method)(path, {"role": "viewer"}, format="json")
        assert response.status_code == 404, (method, path)
        assert _error(response) == "TEAM_NOT_FOUND"
    assert [t["personal"] for t in outsider.get("/api/teams").json()["teams"]] == [True]


def test_a_team_token_sees_its_team_only_and_cannot_join_or_make_teams(alice, bob):
    acme = team_create(owner=alice, name="Acme")
    owner = bearer_client(alice)
    made = owner.post("/api/user/tokens", {"name": "CI", "team": str(acme.pk)}, format="json")
    assert made.status_code == 201, made.content
    robot = APIClient()
    robot.credentials(HTTP_AUTHORIZATION=f"Bearer {made.json()['token']}")
    assert [t["name"] for t in robot.get("/api/teams").json()["teams"]] == ["Acme"]
    personal = Team.objects.get(personal=True, memberships__user=alice)
    assert robot.get(f"/api/teams/{personal.pk}").status_code == 404
    assert robot.post("/api/teams", {"name": "Side"}, format="json").status_code == 403
    other = team_create(owner=bob, name="Bob's shop")
    key = Invitation.objects.create(team=other, email="alice@example.com", role=Role.VIEWER).key
    assert robot.post(f"/api/invitations/{key}/accept").status_code == 403


def test_switching_teams_moves_the_seed_endpoints(alice):
    acme = team_create(owner=alice, name="Acme")
    owner = bearer_client(alice)
    owner.post("/api/sites", {"name": "Mine", "slug": "alice-mine"}, format="json")
    switched = owner.post(f"/api/teams/{acme.pk}/switch")
    assert switched.status_code == 200 and switched.json()["current"] is True
    assert owner.get("/api/sites").json()["sites"] == []
    owner.post("/api/sites", {"name": "Shared", "slug": "acme-shared"}, format="json")
    assert [s["name"] for s in owner.get(f"/api/sites?team={acme.pk}").json()["sites"]] == [
        "Shared"
    ]


@pytest.mark.slow
def test_team_answers_about_real_objects_match_the_schema(api_schema, bearer, alice, bob):  # noqa: F811
    """Each success answer of the teams API, about real teams, members and invitations, is
    what the schema at /api/schema/ declares."""

    def call(method: str, path: str, status: int, headers=None, **parts):
        if "body" in parts:
            parts["media_type"] = "application/json"
        case = api_schema[path][method].Case(**parts)
        response = case.call_and_validate(
            headers=bearer if headers is None else headers, checks=CHECKS
        )
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None

    team = call("POST", "/api/teams", 201, body={"name": "Acme"})
    ids = {"id": team["id"]}
    call("GET", "/api/teams", 200)
    call("GET", "/api/teams/{id}", 200, path_parameters=ids)
    call("PATCH", "/api/teams/{id}", 200, path_parameters=ids, body={"requireTwoFactor": False})
    call("POST", "/api/teams/{id}/switch", 200, path_parameters=ids)
    invited = call(
        "POST", "/api/teams/{id}/invitations", 201, path_parameters=ids, body={"email": bob.email}
    )
    invitation = {**ids, "invitation_pk": invited["id"]}
    call("GET", "/api/teams/{id}/invitations", 200, path_parameters=ids)
    call(
        "POST",
        "/api/teams/{id}/invitations/{invitation_pk}/resend",
        200,
        path_parameters=invitation,
    )
    key = {"key": Invitation.objects.get(pk=invited["id"]).key}
    call("GET", "/api/invitations/{key}", 200, path_parameters=key)
    as_bob = {"Authorization": f"Bearer {bearer_client(bob).token.access}"}
    call("POST", "/api/invitations/{key}/accept", 200, headers=as_bob, path_parameters=key)
    member = {**ids, "user_pk": str(bob.pk)}
    call("GET", "/api/teams/{id}/members", 200, path_parameters=ids)
    call(
        "PATCH",
        "/api/teams/{id}/members/{user_pk}",
        200,
        path_parameters=member,
        body={"role": "admin"},
    )
    call("GET", "/api/teams/{id}/audit", 200, path_parameters=ids, query={"action": "member."})
    call("POST", "/api/teams/{id}/transfer", 200, path_parameters=ids, body={"userId": str(bob.pk)})
    call("POST", "/api/teams/{id}/leave", 204, path_parameters=ids)
    call(
        "DELETE",
        "/api/teams/{id}",
        204,
        headers=as_bob,
        path_parameters=ids,
        body={"confirm": "Acme"},
    )
