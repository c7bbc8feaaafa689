"""The one module that decides what a member of a team may do.

Every HTML view, API view, WebSocket consumer, Celery entry point acting for a user and admin
action asks ``can(user, action, obj)`` or ``authorize(user, action, obj)``. ``obj`` is a Team
or anything a team owns (its team is found through the model's ``team_path``).

| action            | owner | admin | developer | viewer |
|-------------------|:-----:|:-----:|:---------:|:------:|
| view              |   ✓   |   ✓   |     ✓     |   ✓    |
| site.manage       |   ✓   |   ✓   |     ✓     |        |
| dns.manage        |   ✓   |   ✓   |     ✓     |        |
| domain.manage     |   ✓   |   ✓   |           |        |
| team.settings     |   ✓   |   ✓   |           |        |
| member.manage     |   ✓   |   ✓   |           |        |
| audit.view        |   ✓   |   ✓   |           |        |
| token.manage      |   ✓   |   ✓   |           |        |
| billing.view      |   ✓   |   ✓   |           |        |
| billing.manage    |   ✓   |       |           |        |
| team.transfer     |   ✓   |       |           |        |
| team.delete       |   ✓   |       |           |        |

(docs/teams.md explains each action; keep the two tables in step.)

Someone outside the team is not told the object exists: ``authorize`` raises Http404 for them
and PermissionDenied (403 FORBIDDEN) for a member whose role does not allow the action.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.two_factor import has_two_factor
from controlpanel import access
from controlpanel.prepared import PreparedQuery
from teams.audit import remember_target
from teams.models import Membership, Role, Team
from teams.querysets import team_id_of

VIEW = "view"
SITE_MANAGE = "site.manage"  # sites, files, deploys, rollbacks, projects, editor, site backups
DNS_MANAGE = "dns.manage"  # DNS records of the team's hosted zones
DOMAIN_MANAGE = "domain.manage"  # add, register, renew, verify, attach, delete; certificates
TEAM_SETTINGS = "team.settings"  # rename the team, require two-factor sign-in
MEMBER_MANAGE = "member.manage"  # invite, remove, change roles (owners excepted)
AUDIT_VIEW = "audit.view"
TOKEN_MANAGE = "token.manage"  # noqa: S105 (API tokens acting for the team)
BILLING_VIEW = "billing.view"  # the plan, usage, invoices
BILLING_MANAGE = "billing.manage"  # subscribe, change or cancel the plan, pay
TEAM_TRANSFER = "team.transfer"
TEAM_DELETE = "team.delete"

_DEVELOPER = {VIEW, SITE_MANAGE, DNS_MANAGE}
_ADMIN = _DEVELOPER | {
    DOMAIN_MANAGE,
    TEAM_SETTINGS,
    MEMBER_MANAGE,
    AUDIT_VIEW,
    TOKEN_MANAGE,
    BILLING_VIEW,
}
_OWNER = _ADMIN | {BILLING_MANAGE, TEAM_TRANSFER, TEAM_DELETE}

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(_OWNER),
    Role.ADMIN: frozenset(_ADMIN),
    Role.DEVELOPER: frozenset(_DEVELOPER),
    Role.VIEWER: frozenset({VIEW}),
}
ACTIONS = frozenset(_OWNER)

ACTION_WORDS = {
    VIEW: "see this",
    SITE_MANAGE: "change sites, files or deployments",
    DNS_MANAGE: "change DNS records",
    DOMAIN_MANAGE: "manage domains and certificates",
    TEAM_SETTINGS: "change the team's settings",
    MEMBER_MANAGE: "manage members",
    AUDIT_VIEW: "read the audit log",
    TOKEN_MANAGE: "manage the team's API tokens",
    BILLING_VIEW: "see the team's billing",
    BILLING_MANAGE: "manage billing",
    TEAM_TRANSFER: "transfer the team",
    TEAM_DELETE: "delete the team",
}


def role_of(user, team) -> str | None:
    """``user``'s role in ``team`` (a Team or its id), or None for a non-member.

    Cached on the user object for the request, so a page asking many times queries once."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    team_id = team.pk if isinstance(team, Team) else team
    if team_id is None:
        return None
    only = token_team_id(user)
    if only is not None and str(only) != str(team_id):
        return None  # a team token acts in its own team only
    return _membership_of(user, team_id)[0]


def _membership_of(user, team_id) -> tuple[str | None, bool]:
    """(role, whether the team requires two-factor sign-in), cached for the request."""
    cache = user.__dict__.setdefault("_team_roles", {})
    if team_id not in cache:
        try:
            wanted = team_id if isinstance(team_id, uuid.UUID) else uuid.UUID(str(team_id))
        except ValueError:
            cache[team_id] = (None, False)  # not a team id at all: nobody's member of it
        else:
            generation = access.generation_of(user)
            answer = _KEPT_ROLES.get((user.pk, wanted), generation)
            if answer is None:
                membership = _MEMBERSHIP(user.pk, wanted).first()
                answer = (
                    (membership.role, membership.team.require_two_factor)
                    if membership is not None
                    else (None, False)
                )
                _KEPT_ROLES.put((user.pk, wanted), generation, answer)
            cache[team_id] = answer
    return cache[team_id]


# Asked once per request that touches a team: compiled once per process (controlpanel.prepared);
# for a bearer token's request, the answer kept while access does not change (controlpanel.access).
_KEPT_ROLES = access.LookupCache()
_MEMBERSHIP = PreparedQuery(
    lambda user_id, team_id: Membership.objects.select_related("team").filter(
        user_id=user_id, team_id=team_id
    )
)


def restrict_to_team(user, team_id) -> None:
    """For a request made with a team token: every other team answers as if not a member."""
    user.__dict__["_only_team_id"] = team_id


def token_team_id(user):
    """The team a team token restricts this request to, or None."""
    return None if user is None else user.__dict__.get("_only_team_id")


def authorize_personal(user) -> None:
    """Acts for the person across teams (create a team, answer an invitation): refused to a
    request made with a team token, which acts in its own team only."""
    if token_team_id(user) is not None:
        raise PermissionDenied("A team token acts in its own team only; use a personal token.")


def forget_roles(user) -> None:
    """Drop the cached roles after a membership change."""
    user.__dict__.pop("_team_roles", None)


def role_allows(role: str | None, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    return role is not None and action in ROLE_ACTIONS[role]


def can(user, action: str, obj) -> bool:
    """May ``user`` do ``action`` on ``obj`` (a Team or anything a team owns)?"""
    return role_allows(role_of(user, team_id_of(obj)), action)


def authorize(user, action: str, obj) -> str:
    """Return ``user``'s role if they may do ``action`` on ``obj``; else raise.

    Http404 when ``user`` is not a member (the object's existence stays private),
    PermissionDenied (403) when their role does not allow it."""
    team_id = team_id_of(obj)
    role = role_of(user, team_id)
    if role is None:
        raise Http404("Not found.")
    if not (action == VIEW and isinstance(obj, Team)) and two_factor_missing(user, team_id):
        raise PermissionDenied(
            "This team requires two-factor sign-in: set it up under Settings, then try again."
        )
    if not role_allows(role, action):
        raise PermissionDenied(
            f"Your role ({Role(role).label.lower()}) does not allow you to {ACTION_WORDS[action]}."
        )
    return role


def is_operator(user) -> bool:
    """Operators (staff) run the installation: the admin, operations pages and their jobs."""
    return bool(user is not None and user.is_active and user.is_staff)


def job_refusal(actor, action: str, obj) -> str:
    """For background work acting for ``actor`` (a queued build, say), asked when it runs:
    roles may have changed since it was queued. Answers "" when ``actor`` may still do
    ``action`` on ``obj``, else why not, in a sentence for the job's record. Work queued by
    nobody (``actor`` None: the system's own upkeep) is not refused."""
    if actor is None:
        return ""
    forget_roles(actor)
    actor.__dict__.pop("_has_two_factor", None)
    if not actor.is_active:
        return f"Not run: {actor} can no longer sign in."
    try:
        authorize(actor, action, obj)
    except Http404:
        return f"Not run: {actor} is no longer a member of the team."
    except PermissionDenied as exc:
        return f"Not run for {actor}: {exc}"
    return ""


def two_factor_missing(user, team_id) -> bool:
    """Does the team require two-factor sign-in of a member who has not set it up?"""
    return _membership_of(user, team_id)[1] and not has_two_factor(user)


def roles_allowed(action: str) -> list[str]:
    """The roles that may do ``action``, most powerful first (docs, the matrix test)."""
    return [role for role in Role.values if action in ROLE_ACTIONS[role]]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def authorize_request(request, obj, write_action: str) -> str:
    """``authorize`` for a view: a read (GET, HEAD, OPTIONS) needs ``view``, anything else
    ``write_action``. Returns the role."""
    action = VIEW if request.method in READ_METHODS else write_action
    role = authorize(request.user, action, obj)
    remember_target(request, obj)
    return role
