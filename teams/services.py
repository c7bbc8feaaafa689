"""Every change to teams goes through here: pages, API, signals and admin."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from teams.models import Membership, Role, Team


def personal_team_name(user) -> str:
    return f"{(user.name or user.email.split('@')[0]).strip()[:80]}'s team"


def team_personal_create(*, user) -> Team:
    """The team made for one person at sign-up; they own it and act in it by default."""
    with transaction.atomic():
        team = Team.objects.create(name=personal_team_name(user), personal=True)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        type(user).objects.filter(pk=user.pk, current_team__isnull=True).update(current_team=team)
        user.current_team = team
    return team


def personal_team(user) -> Team:
    """``user``'s personal team (made now if an old account has none)."""
    team = Team.objects.filter(personal=True, memberships__user=user).first()
    return team or team_personal_create(user=user)


def acting_team(user) -> Team:
    """The team ``user`` acts in when nothing else says: their current team while they are
    still a member of it, else their personal team."""
    if (
        user.current_team_id
        and Membership.objects.filter(user=user, team_id=user.current_team_id).exists()
    ):
        return user.current_team
    return personal_team(user)


def team_create(*, owner, name: str) -> Team:
    """A new shared team with ``owner`` as its owner."""
    name = (name or "").strip()
    team = Team(name=name)
    team.full_clean()
    with transaction.atomic():
        team.save()
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    return team


def team_switch(*, user, team: Team) -> None:
    """Make ``team`` the one ``user`` acts in (pages and the seeds' API endpoints)."""
    if not Membership.objects.filter(user=user, team=team).exists():
        raise ValidationError("You are not a member of that team.")
    type(user).objects.filter(pk=user.pk).update(current_team=team)
    user.current_team = team
