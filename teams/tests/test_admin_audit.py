"""Operators' changes through the Django admin appear in the audit log: changes, deletions and
admin actions, each with the operator, the object and its team."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.urls import reverse

from hosting.models import Site
from hosting.services import site_create
from teams.admin_audit import AuditedAdmin
from teams.models import AuditEvent, Membership, Role
from teams.services import team_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(alice, bob):
    team = team_create(owner=alice, name="Acme")
    Membership.objects.create(team=team, user=bob, role=Role.DEVELOPER)
    return team


def test_every_model_admin_is_audited():
    """Ours and third-party ones (allauth's, Django's) alike: whoever registers a model with
    the admin gets the audit without doing anything."""
    plain = [
        model.__name__
        for model, ma in admin.site._registry.items()
        if not isinstance(ma, AuditedAdmin)
    ]
    assert plain == []
    assert Authenticator in admin.site._registry


def test_an_operator_changing_a_role_is_in_the_teams_log(client, operator, acme, bob):
    membership = Membership.objects.get(team=acme, user=bob)
    client.force_login(operator)
    url = reverse("admin:teams_membership_change", args=[membership.pk])
    response = client.post(
        url,
        {
            "team": str(acme.pk),
            "user": str(bob.pk),
            "role": "viewer",
            "created_at_0": membership.created_at.strftime("%Y-%m-%d"),
            "created_at_1": membership.created_at.strftime("%H:%M:%S"),
        },
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302, response.content[:2000]
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER
    event = AuditEvent.objects.get(team=acme, action="admin.change")
    assert event.actor == operator and event.object_type == "membership"
    assert event.details["via"] == "admin" and "Role" in event.details["change"]
    assert event.ip_address == "203.0.113.9"
    # The team's owner reads it in the team's own log.
    client.force_login(acme.memberships.get(role=Role.OWNER).user)
    assert b"admin.change" in client.get(f"/teams/{acme.pk}/audit/").content


def test_admin_actions_and_deletions_are_recorded_per_object(client, operator, acme, alice):
    shop = site_create(team=acme, owner=alice, name="Shop", slug="acme-shop")
    blog = site_create(team=acme, owner=alice, name="Blog", slug="acme-blog")
    client.force_login(operator)
    changelist = reverse("admin:hosting_site_changelist")
    client.post(changelist, {"action": "take_offline", "_selected_action": [shop.pk, blog.pk]})
    assert set(Site.objects.values_list("status", flat=True)) == {"offline"}
    offline = AuditEvent.objects.filter(team=acme, action="admin.take_offline")
    assert sorted(offline.values_list("object_repr", flat=True)) == ["Blog", "Shop"]
    assert {e.actor for e in offline} == {operator}

    client.post(reverse("admin:hosting_site_delete", args=[blog.pk]), {"post": "yes"})
    assert not Site.objects.filter(pk=blog.pk).exists()
    deleted = AuditEvent.objects.get(team=acme, action="admin.delete")
    assert deleted.object_repr == "Blog" and deleted.object_id == str(blog.pk)

    # Asking to delete shows a confirmation page first: nothing is recorded until confirmed.
    client.post(changelist, {"action": "delete_selected", "_selected_action": [shop.pk]})
    assert AuditEvent.objects.filter(action="admin.delete").count() == 1
    client.post(
        changelist, {"action": "delete_selected", "_selected_action": [shop.pk], "post": "yes"}
    )
    assert AuditEvent.objects.filter(team=acme, action="admin.delete").count() == 2


def test_changes_to_objects_of_no_team_are_recorded_too(client, operator, bob):
    client.force_login(operator)
    url = reverse("admin:accounts_user_changelist")
    assert (
        client.post(
            url, {"action": "delete_selected", "_selected_action": [bob.pk], "post": "yes"}
        ).status_code
        == 302
    )
    event = AuditEvent.objects.get(action="admin.delete", object_id=str(bob.pk))
    assert event.team is None and event.actor == operator and event.object_repr == bob.email


def test_a_restart_asked_by_someone_no_longer_an_operator_does_nothing(operator):
    """The web server's restart runs in a worker; it asks again whether its operator is one."""
    from monitoring.tasks import restart_process

    type(operator).objects.filter(pk=operator.pk).update(is_staff=False)
    result = restart_process.apply(args=["web", str(operator.pk)])
    assert result.successful()
    assert not AuditEvent.objects.filter(action="process.restart").exists()
