"""Reads of teams, members, invitations and the audit log for pages and the API."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Subquery

from teams.models import AuditEvent, Invitation, Membership, Role, Team
from teams.permissions import can, token_team_id


def team_owners(team: Team):
    """The users who own ``team`` (at least one, always)."""
    return (
        get_user_model()
        .objects.filter(memberships__team=team, memberships__role=Role.OWNER)
        .select_related("preferences")
    )


def team_list(*, user):
    """``user``'s teams (only its own with a team token), personal first, each with
    ``my_role`` (the user's role) and ``member_count``."""
    # By id, not through for_member's join, so that Count sees every membership.
    teams = Team.objects.filter(pk__in=Team.objects.for_member(user).values("pk"))
    only = token_team_id(user)
    if only is not None:
        teams = teams.filter(pk=only)
    mine = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    return teams.annotate(
        my_role=Subquery(mine), member_count=Count("memberships", distinct=True)
    ).order_by("-personal", "name")


def team_get(*, user, pk) -> Team:
    return team_list(user=user).get(pk=pk)


def member_list(*, team: Team):
    return Membership.objects.filter(team=team).select_related("user").order_by("created_at")


def team_list_allowing(*, user, action: str) -> list[Team]:
    """``user``'s teams where their role allows ``action`` (say, making the team's tokens)."""
    return [team for team in team_list(user=user) if can(user, action, team)]


def member_get(*, team: Team, user_id) -> Membership:
    return Membership.objects.select_related("user", "team").get(team=team, user_id=user_id)


def invitation_get(*, team: Team, pk) -> Invitation:
    return Invitation.objects.select_related("team", "invited_by").get(team=team, pk=pk)


def invitation_by_key(*, key: str) -> Invitation:
    """The invitation an emailed link names (anyone holding the link may read it)."""
    return Invitation.objects.select_related("team", "invited_by").get(key=key)


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
