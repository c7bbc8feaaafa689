"""Reads of teams, members, invitations and the audit log for pages and the API."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from teams.models import AuditEvent, Invitation, Membership, Role, Team


def team_owners(team: Team):
    """The users who own ``team`` (at least one, always)."""
    return (
        get_user_model()
        .objects.filter(memberships__team=team, memberships__role=Role.OWNER)
        .select_related("preferences")
    )


def team_list(*, user):
    return Team.objects.for_member(user).order_by("-personal", "name")


def team_get(*, user, pk) -> Team:
    return Team.objects.for_member(user).get(pk=pk)


def member_list(*, team: Team):
    return Membership.objects.filter(team=team).select_related("user").order_by("created_at")


def invitation_list(*, team: Team):
    return Invitation.objects.filter(team=team, status=Invitation.Status.PENDING).select_related(
        "invited_by"
    )


def audit_list(*, team: Team, action: str = "", actor=None, object_type: str = ""):
    events = AuditEvent.objects.filter(team=team).select_related("actor")
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_id=actor)
    if object_type:
        events = events.filter(object_type=object_type)
    return events


def audit_object_types(*, team: Team) -> list[str]:
    return list(
        AuditEvent.objects.filter(team=team)
        .exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
