"""The audit trail: who changed what in a team, when, from where.

Changes made through the panel's doors are recorded in one place: the permission check
(``teams.permissions.authorize_request``) remembers the object a request acts on, and
``AuditMiddleware`` records every successful change (any method but GET/HEAD/OPTIONS) once the
response is known. Team services (members, roles, invitations, settings) record their own,
more precise, events with ``audit_record``.
"""

from __future__ import annotations

from django.db.models import Model

from controlpanel.http import client_ip, user_agent
from teams.models import AuditEvent, Team
from teams.querysets import team_id_of

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def base_request(request):
    """The Django request under a DRF request (attributes set on it reach the middleware)."""
    return getattr(request, "_request", request)


def remember_target(request, obj) -> None:
    """Note what ``request`` acts on, for the audit middleware."""
    if request is not None:
        base_request(request)._audit_target = obj


def audit_record(
    *,
    team,
    actor=None,
    action: str,
    obj=None,
    request=None,
    details: dict | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Add one line to ``team``'s audit log (``team=None``: an operator's action on Berth
    itself). ``obj`` is a model instance, or anything else named by ``object_type`` and
    ``object_id`` (a supervised process, say)."""
    if request is not None:
        base_request(request)._audited = True
    team_obj = team if isinstance(team, Team) else Team.objects.filter(pk=team).first()
    if isinstance(obj, Model):
        object_type, object_id = obj._meta.model_name, str(obj.pk)
    return AuditEvent.objects.create(
        team=team_obj,
        team_name=team_obj.name if team_obj else "",
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action[:60],
        object_type=object_type[:40],
        object_id=object_id[:64],
        object_repr=str(obj)[:300] if obj is not None else "",
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        details=details or {},
    )


def _action_name(request) -> str:
    match = getattr(request, "resolver_match", None)
    name = (match.view_name if match else "") or request.path
    return f"{request.method.lower()} {name}"


class AuditMiddleware:
    """Record every successful change made by a signed-in member through a page or the API."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in READ_METHODS or response.status_code >= 400:
            return response
        if getattr(request, "_audited", False):
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        target = getattr(request, "_audit_target", None)
        acting = getattr(request, "_berth_team", None)
        team_id = team_id_of_safe(target) or getattr(acting, "pk", None)
        if team_id is None:
            return response
        details = {"status": response.status_code}
        if getattr(request, "resolver_match", None) and request.resolver_match.kwargs:
            details["arguments"] = {k: str(v) for k, v in request.resolver_match.kwargs.items()}
        audit_record(
            team=team_id,
            actor=user,
            action=_action_name(request),
            obj=target if isinstance(target, Model) and not isinstance(target, Team) else None,
            request=request,
            details=details,
        )
        return response


def team_id_of_safe(obj):
    if obj is None:
        return None
    try:
        return team_id_of(obj)
    except Exception:  # the object was deleted by the request itself
        return getattr(obj, "team_id", None)
