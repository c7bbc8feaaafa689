"""Which team a request acts in.

- Browser: the user's current team (chosen with the team switcher, kept on the user).
- API with a team token: that token's team, always.
- API with a personal token or a session: the ``team`` query parameter when given (an id of a
  team the caller belongs to), else the caller's current team.
The seeds' endpoints therefore keep their shapes and act in the caller's current team.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.http import Http404

from controlpanel import access
from controlpanel.prepared import PreparedQuery
from teams.audit import base_request
from teams.models import Team
from teams.permissions import role_of
from teams.services import acting_team

TEAM_PARAMETER = "team"
# Read on every signed-in request: compiled once per process (controlpanel.prepared); for a
# bearer token's request kept by the process while access does not change (controlpanel.access).
_MEMBER_TEAMS = PreparedQuery(
    lambda user_id: Team.objects.filter(memberships__user_id=user_id).order_by("-personal", "name")
)
_KEPT_TEAMS = access.LookupCache()


def _member_teams(user) -> list[Team]:
    generation = access.generation_of(user)
    kept = _KEPT_TEAMS.get(user.pk, generation)
    if kept is not None:
        return [access.rebuild(Team, row) for row in kept]
    teams = list(_MEMBER_TEAMS(user.pk))
    _KEPT_TEAMS.put(user.pk, generation, [access.snapshot(team) for team in teams])
    return teams


def _requested_team_id(request):
    raw = request.GET.get(TEAM_PARAMETER, "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise ValidationError({TEAM_PARAMETER: ["Give the id of one of your teams."]}) from exc


def current_team(request) -> Team | None:
    """The team ``request`` acts in (None when nobody is signed in). Cached on the request."""
    request = base_request(request)
    if hasattr(request, "_berth_team"):
        return request._berth_team
    user = getattr(request, "user", None)
    team = None
    if user is not None and user.is_authenticated:
        token = getattr(request, "auth", None)
        requested = _requested_team_id(request) if hasattr(request, "GET") else None
        token_team_id = getattr(token, "team_id", None)
        if token_team_id and requested and requested != token_team_id:
            raise Http404("This token acts in another team.")
        wanted = token_team_id or requested
        if wanted:
            if role_of(user, wanted) is None:
                raise Http404("No such team.")
            team = Team.objects.get(pk=wanted)
        else:
            team = _default_team(request, user)
    request._berth_team = team
    return team


def member_teams(request, user) -> list[Team]:
    """The user's teams, personal first, fetched once per request."""
    request = base_request(request)
    if not hasattr(request, "_berth_teams"):
        request._berth_teams = _member_teams(user)
    return request._berth_teams


def _default_team(request, user) -> Team:
    """The user's current team while they belong to it, else their personal team (one query
    for both, shared with the team switcher)."""
    teams = member_teams(request, user)
    for team in teams:
        if team.pk == user.current_team_id:
            return team
    return next((team for team in teams if team.personal), None) or acting_team(user)


def team_navigation(request) -> dict:
    """Template context: the team this page acts in and the others the user may switch to."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    request = base_request(request)
    team = getattr(request, "_berth_team", None) or _default_team(request, user)
    return {"current_team": team, "my_teams": member_teams(request, user)}
