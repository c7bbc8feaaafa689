"""What operators do to users: suspend and reinstate. Nothing is deleted; every action is
written to the audit log of each team the user belongs to."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import BrowserSession
from billing.services import serving_changed
from teams.audit import audit_record
from teams.models import Role, Team


def _audit(*, user, actor, action: str, request=None) -> None:
    for team in Team.objects.for_member(user):
        audit_record(
            team=team,
            actor=actor,
            action=action,
            obj=user,
            request=request,
            details={"user": user.email, "by": "operator"},
        )


def _teams_served(*, user, suspended_at) -> None:
    """The teams ``user`` owns show the suspended page while they are suspended (set), and
    are served again when reinstated (None); both servers are told after commit."""
    owned = Team.objects.filter(memberships__user=user, memberships__role=Role.OWNER).distinct()
    for team in owned:
        Team.objects.filter(pk=team.pk).update(suspended_at=suspended_at)
        serving_changed(team=team)


@transaction.atomic
def user_suspend(*, user, actor, request=None):
    """Stop ``user`` signing in or using the API (sessions and tokens stop working at once);
    the sites of the teams they own answer the suspended page; nothing is deleted. Operators
    cannot suspend themselves."""
    if user.pk == actor.pk:
        raise ValidationError({"user": ["You cannot suspend yourself."]})
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    BrowserSession.objects.filter(user=user).delete()
    _teams_served(user=user, suspended_at=timezone.now())
    _audit(user=user, actor=actor, action="user.suspend", request=request)
    return user


@transaction.atomic
def user_unsuspend(*, user, actor, request=None):
    """Let a suspended ``user`` sign in again."""
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active", "updated_at"])
    _teams_served(user=user, suspended_at=None)
    _audit(user=user, actor=actor, action="user.unsuspend", request=request)
    return user
