"""Reads for the settings pages and the API: always scoped to one user."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import AccessToken, BrowserSession, Preferences, SecurityEvent, User
from billing.limits import plan_of, team_suspended
from controlpanel.prepared import PreparedQuery
from teams.services import acting_team


def security_events(*, user: User):
    return SecurityEvent.objects.filter(user=user)


# The dashboard shows the newest few on every load: compiled once per process.
_SECURITY_EVENTS = PreparedQuery(
    lambda user_id: SecurityEvent.objects.filter(user_id=user_id).order_by("-created_at", "-id")
)


def security_events_recent(*, user: User, count: int = 5) -> list[SecurityEvent]:
    """The user's newest ``count`` security events, newest first."""
    return _SECURITY_EVENTS(user.pk)[0:count]


def active_tokens(*, user: User, kind: str | None = None):
    tokens = AccessToken.objects.for_user(user).active().select_related("team")
    return tokens.filter(kind=kind) if kind else tokens


def token_get(*, user: User, pk) -> AccessToken:
    return AccessToken.objects.for_user(user).get(pk=pk)


def browser_sessions(*, user: User):
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return BrowserSession.objects.filter(user=user, session_key__in=live)


def browser_session_get(*, user: User, pk) -> BrowserSession:
    return BrowserSession.objects.filter(user=user).get(pk=pk)


def user_site_count(*, user: User) -> int:
    # Sites belong to the hosting app; count them when it is installed.
    related = getattr(user, "sites", None)
    return related.count() if related is not None else 0


def user_plan_slug(*, user: User) -> str:
    """The plan of the team the user acts in (Cloud Haven's User.plan)."""
    return plan_of(acting_team(user)).key


def user_status(*, user: User) -> str:
    """ "suspended" for a deactivated account or one acting in a suspended team."""
    if not user.is_active or team_suspended(acting_team(user)):
        return "suspended"
    return "active"


# Read for every signed-in page (its theme): compiled once per process (controlpanel.prepared).
_PREFERENCES = PreparedQuery(lambda user_id: Preferences.objects.filter(user_id=user_id))


def preferences_find(*, user: User) -> Preferences | None:
    """The user's preferences, None before they have any."""
    return _PREFERENCES(user.pk).first()
