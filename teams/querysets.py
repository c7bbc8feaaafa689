"""The one place reads of team-owned objects are scoped.

Every owned model's queryset inherits ``TeamScopedQuerySet`` and names the lookup from the model
to its team in ``team_path`` (``"team"`` for a site, ``"site__team"`` for a deployment).

- ``for_team(team)``: the objects of one team (lists on pages and in the API: the current team).
- ``for_member(user)``: the objects of every team ``user`` belongs to (lookups by id: another
  team's object is simply not found, so it answers 404).
- ``for_user(user)`` is ``for_member(user)``, kept so existing call sites keep their meaning
  ("what this person may see").
"""

from __future__ import annotations

from django.db import models

from teams.models import Membership, Team


def member_team_ids(user):
    """A subquery of the ids of the teams ``user`` belongs to."""
    return Membership.objects.filter(user=user).values("team_id")


class TeamScopedQuerySet(models.QuerySet):
    team_path = "team"

    def for_team(self, team):
        if team is None:
            return self.none()
        return self.filter(**{self.team_path: team})

    def for_member(self, user):
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(**{f"{self.team_path}__in": member_team_ids(user)})

    def for_user(self, user):
        return self.for_member(user)

    def scoped(self, *, user, team=None):
        """``for_team(team)`` when a team is given (lists act in the current team), else
        ``for_member(user)``."""
        return self.for_team(team) if team is not None else self.for_member(user)


def team_path_of(model) -> str:
    return getattr(model._default_manager._queryset_class, "team_path", "team")


def team_id_of(obj):
    """The id of the team that owns ``obj`` (a Team, or any model with a team path)."""
    if isinstance(obj, Team):
        return obj.pk
    parts = team_path_of(type(obj)).split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part)
        if obj is None:
            return None
    return getattr(obj, f"{parts[-1]}_id")
