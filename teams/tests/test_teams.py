"""Teams as people use them: personal teams, invitations by email, members, ownership, deletion,
the current team, the audit trail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from conftest import make_user
from hosting.models import Site
from hosting.services import site_create
from teams.models import AuditEvent, Invitation, Membership, Role, Team
from teams.services import team_create, team_switch

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(alice):
    team = team_create(owner=alice, name="Acme")
    team_switch(user=alice, team=team)
    return team


def _link(message) -> str:
    return re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_every_new_account_gets_a_personal_team_it_owns(alice):
    team = Team.objects.get(memberships__user=alice)
    assert team.personal and team.name == "Alice Liddell's team"
    assert Membership.objects.get(team=team).role == Role.OWNER
    assert alice.current_team == team


def test_invitation_by_email_accept_then_share_sites(client, alice, acme):
    site = site_create(team=acme, owner=alice, name="Shop", slug="acme-shop")
    client.force_login(alice)
    response = client.post(
        f"/teams/{acme.pk}/invitations/", {"email": "Bob@Example.com", "role": "developer"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bob@example.com"]
    assert "Acme" in mail.outbox[0].subject
    link = _path(_link(mail.outbox[0]))

    bob = make_user("bob@example.com", "Bob Builder")
    client.force_login(bob)
    page = client.get(link)
    assert page.status_code == 200 and b"Accept and join" in page.content
    assert client.post(link, {"answer": "accept"}).status_code == 302
    assert Membership.objects.get(team=acme, user=bob).role == Role.DEVELOPER
    bob.refresh_from_db()
    assert bob.current_team == acme
    # Bob now works on Acme's site, and his navigation says which team he acts in.
    sites = client.get("/sites/")
    assert b"Shop" in sites.content and b"Acting in" in sites.content
    assert client.get(f"/sites/{site.pk}/").status_code == 200
    assert AuditEvent.objects.filter(team=acme, action="member.join", actor=bob).exists()
    # The link is used up.
    assert b"no longer valid" in client.get(link).content


def test_invitation_for_another_address_cannot_be_accepted(client, alice, acme, charlie):
    client.force_login(alice)
    client.post(f"/teams/{acme.pk}/invitations/", {"email": "bob@example.com", "role": "viewer"})
    link = _path(_link(mail.outbox[0]))
    client.force_login(charlie)
    assert b"sign in with that address" in client.get(link).content.lower()
    client.post(link, {"answer": "accept"})
    assert not Membership.objects.filter(team=acme, user=charlie).exists()


def test_decline_resend_revoke_and_expiry(client, alice, acme):
    client.force_login(alice)
    client.post(f"/teams/{acme.pk}/invitations/", {"email": "bob@example.com", "role": "viewer"})
    invitation = Invitation.objects.get(team=acme)
    first = _path(_link(mail.outbox[0]))
    client.post(f"/teams/{acme.pk}/invitations/{invitation.pk}/resend/")
    assert len(mail.outbox) == 2
    second = _path(_link(mail.outbox[1]))
    assert first != second
    bob = make_user("bob@example.com", "Bob Builder")
    client.force_login(bob)
    assert client.get(first).status_code == 404  # the old link stopped working
    client.post(second, {"answer": "decline"})
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED
    assert not Membership.objects.filter(team=acme, user=bob).exists()

    client.force_login(alice)
    client.post(f"/teams/{acme.pk}/invitations/", {"email": "bob@example.com", "role": "viewer"})
    pending = Invitation.objects.get(team=acme, status=Invitation.Status.PENDING)
    client.post(f"/teams/{acme.pk}/invitations/{pending.pk}/revoke/")
    client.force_login(bob)
    link = _path(_link(mail.outbox[-1]))
    assert b"no longer valid" in client.get(link).content
    client.post(link, {"answer": "accept"})
    assert not Membership.objects.filter(team=acme, user=bob).exists()

    client.force_login(alice)
    client.post(f"/teams/{acme.pk}/invitations/", {"email": "bob@example.com", "role": "viewer"})
    Invitation.objects.filter(team=acme, status="pending").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(bob)
    link = _path(_link(mail.outbox[-1]))
    client.post(link, {"answer": "accept"})
    assert not Membership.objects.filter(team=acme, user=bob).exists()


def test_roles_removal_leaving_and_transfer_keep_an_owner(client, alice, bob, charlie, acme):
    Membership.objects.create(team=acme, user=bob, role=Role.ADMIN)
    Membership.objects.create(team=acme, user=charlie, role=Role.VIEWER)
    client.force_login(bob)  # an admin manages members below owner
    client.post(f"/teams/{acme.pk}/members/{charlie.pk}/role/", {"role": "developer"})
    assert Membership.objects.get(team=acme, user=charlie).role == Role.DEVELOPER
    client.post(f"/teams/{acme.pk}/members/{alice.pk}/remove/")
    assert Membership.objects.get(team=acme, user=alice).role == Role.OWNER  # not an owner
    assert client.post(f"/teams/{acme.pk}/transfer/", {"user": bob.pk}).status_code == 403

    client.force_login(alice)
    client.post(f"/teams/{acme.pk}/leave/")  # the only owner cannot leave
    assert Membership.objects.filter(team=acme, user=alice).exists()
    client.post(f"/teams/{acme.pk}/transfer/", {"user": bob.pk})
    assert Membership.objects.get(team=acme, user=bob).role == Role.OWNER
    assert Membership.objects.get(team=acme, user=alice).role == Role.ADMIN
    client.post(f"/teams/{acme.pk}/leave/")
    assert not Membership.objects.filter(team=acme, user=alice).exists()
    alice.refresh_from_db()
    assert alice.current_team.personal  # back in her own team

    client.force_login(bob)
    client.post(f"/teams/{acme.pk}/members/{charlie.pk}/remove/")
    assert not Membership.objects.filter(team=acme, user=charlie).exists()
    assert client.get(f"/teams/{acme.pk}/").status_code == 200
    client.force_login(charlie)
    assert client.get(f"/teams/{acme.pk}/").status_code == 404
    actions = set(AuditEvent.objects.filter(team=acme).values_list("action", flat=True))
    assert {"member.role", "team.transfer", "member.leave", "member.remove"} <= actions


def test_delete_team_needs_its_name_typed(client, alice, acme):
    site = site_create(team=acme, owner=alice, name="Shop", slug="acme-shop")
    client.force_login(alice)
    client.post(f"/teams/{acme.pk}/delete/", {"confirm": "acme"})
    assert Team.objects.filter(pk=acme.pk).exists()
    client.post(f"/teams/{acme.pk}/delete/", {"confirm": "Acme"})
    assert not Team.objects.filter(pk=acme.pk).exists()
    assert not Site.objects.filter(pk=site.pk).exists()
    alice.refresh_from_db()
    assert alice.current_team.personal
    personal = alice.current_team
    assert (
        client.post(f"/teams/{personal.pk}/delete/", {"confirm": personal.name}).status_code == 302
    )
    assert Team.objects.filter(pk=personal.pk).exists()  # a personal team stays


def test_lists_act_in_the_current_team_and_the_api_takes_a_team_parameter(api, alice, acme):
    personal = Team.objects.get(personal=True, memberships__user=alice)
    site_create(team=personal, owner=alice, name="Mine", slug="alice-mine")
    site_create(team=acme, owner=alice, name="Theirs", slug="acme-theirs")
    names = [s["name"] for s in api.get("/api/sites").json()["sites"]]
    assert names == ["Theirs"]  # alice switched to Acme
    names = [s["name"] for s in api.get(f"/api/sites?team={personal.pk}").json()["sites"]]
    assert names == ["Mine"]
    created = api.post(f"/api/sites?team={personal.pk}", {"name": "Blog", "slug": "alice-blog"})
    assert created.status_code == 201
    assert Site.objects.get(slug="alice-blog").team == personal
    outsider = Team.objects.create(name="Elsewhere")
    response = api.get(f"/api/sites?team={outsider.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["statusCode"] == 404


def test_switcher_changes_the_team_pages_act_in(client, alice, acme):
    personal = Team.objects.get(personal=True, memberships__user=alice)
    site_create(team=personal, owner=alice, name="Mine", slug="alice-mine")
    client.force_login(alice)
    assert b"Mine" not in client.get("/sites/").content
    response = client.post("/teams/switch/", {"team": personal.pk, "next": "/sites/"})
    assert response.status_code == 302 and response["Location"] == "/sites/"
    page = client.get("/sites/").content.decode()
    assert "Mine" in page
    assert re.search(r"Acting in <strong[^>]*>Alice Liddell&#x27;s team</strong>", page)


def test_changes_are_audited_with_who_what_and_where(client, alice, acme):
    from hosting.files.operations import text_save

    site = site_create(team=acme, owner=alice, name="Shop", slug="acme-shop")
    text_save(site=site, path="index.html", content="<h1>Shop</h1>")
    client.force_login(alice)
    response = client.post(f"/sites/{site.pk}/deploy/", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    event = AuditEvent.objects.get(team=acme, action="post hosting:site-deploy")
    assert event.actor == alice and event.ip_address == "203.0.113.9"
    assert event.object_type == "site" and event.object_id == str(site.pk)
    page = client.get(f"/teams/{acme.pk}/audit/?action=post+hosting").content.decode()
    assert "hosting:site-deploy" in page and "203.0.113.9" in page
    # A refused change is not recorded as one.
    viewer = make_user("carol@example.com", "Carol")
    Membership.objects.create(team=acme, user=viewer, role=Role.VIEWER)
    client.force_login(viewer)
    assert client.post(f"/sites/{site.pk}/deploy/").status_code == 403
    assert not AuditEvent.objects.filter(actor=viewer).exists()
    assert client.get(f"/teams/{acme.pk}/audit/").status_code == 403
