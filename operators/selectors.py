"""What operators read about the people using Berth: every user with their plan, how many
sites their teams hold, and whether they are suspended; a user's sites."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from billing import selectors as billing_selectors
from billing.models import Subscription, Transaction
from hosting import selectors as hosting_selectors
from hosting.models import Site
from teams.models import Membership

STATUSES = ("active", "suspended")


def user_list(*, search: str = "", status: str = "") -> QuerySet:
    """Every user, newest first, with ``site_count`` (sites of the teams they belong to)."""
    User = get_user_model()
    site_count = (
        Site.objects.filter(team__memberships__user=OuterRef("pk"))
        .order_by()
        .values("team__memberships__user")
        .annotate(total=Count("pk", distinct=True))
        .values("total")[:1]
    )
    # The plan of the user's personal team (a cancelled subscription falls back to the default).
    plan = (
        Subscription.objects.filter(team__memberships__user=OuterRef("pk"), team__personal=True)
        .exclude(status=Subscription.Status.CANCELED)
        .values("plan__key")[:1]
    )
    users = User.objects.annotate(
        site_count=Coalesce(Subquery(site_count, output_field=IntegerField()), Value(0)),
        plan_key=Coalesce(Subquery(plan), Value(settings.BILLING_DEFAULT_PLAN)),
    )
    if search:
        users = users.filter(Q(email__icontains=search) | Q(name__icontains=search))
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "suspended":
        users = users.filter(is_active=False)
    return users.order_by("-date_joined", "email")


def user_get(*, pk):
    """Raises User.DoesNotExist (and ValidationError for a malformed id)."""
    return user_list().get(pk=pk)


def user_sites(*, user) -> QuerySet:
    """The sites of every team ``user`` belongs to, with their usage this month and their
    team's plan (``plan_key``)."""
    plan = (
        Subscription.objects.filter(team=OuterRef("team"))
        .exclude(status=Subscription.Status.CANCELED)
        .values("plan__key")[:1]
    )
    return hosting_selectors.site_list(user=user).annotate(
        plan_key=Coalesce(Subquery(plan), Value(settings.BILLING_DEFAULT_PLAN))
    )


def site_list(*, search: str = "", status: str = "", kind: str = "") -> QuerySet:
    """Every site of every team, with usage and its team's plan (``plan_key``)."""
    plan = (
        Subscription.objects.filter(team=OuterRef("team"))
        .exclude(status=Subscription.Status.CANCELED)
        .values("plan__key")[:1]
    )
    return hosting_selectors.site_list_all(search=search, status=status, kind=kind).annotate(
        plan_key=Coalesce(Subquery(plan), Value(settings.BILLING_DEFAULT_PLAN))
    )


def site_statuses() -> list[tuple[str, str]]:
    return list(Site.Status.choices)


def site_kinds() -> list[tuple[str, str]]:
    return list(Site.Kind.choices)


def transaction_list(*, team_id=None, kind: str = "", since=None, until=None) -> QuerySet:
    """The billing ledger, newest first, filtered (the billing app's reading of it)."""
    return billing_selectors.transaction_list(team_id=team_id, kind=kind, since=since, until=until)


def transaction_kinds() -> list[tuple[str, str]]:
    return list(Transaction.Kind.choices)


def user_memberships(*, user) -> QuerySet:
    """The teams ``user`` belongs to, with their role."""
    return Membership.objects.filter(user=user).select_related("team").order_by("team__name")


def user_status(user) -> str:
    return "active" if user.is_active else "suspended"
