"""Reads of billing for the pages and the API: plans, a team's usage, invoices, the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Q, Sum

from backups.selectors import backup_storage_of
from billing.limits import (  # noqa: F401  (plan_of: read by pages and the API)
    COUNTED,
    Allowance,
    month_start,
    plan_allows,
    plan_default,
    plan_of,
    plan_of_subscription,
    subscription_of,
)
from billing.models import LIMITS, Invoice, Plan, Purchase, Subscription, Transaction
from hosting.models import Site, SiteBandwidth
from hosting.selectors import storage_in_use
from teams.models import Team


def plan_list(*, include_hidden: bool = False):
    """The plans offered to customers (every plan for operators)."""
    plan_default()  # exists even if an operator deleted it
    plans = Plan.objects.all()
    return plans if include_hidden else plans.filter(public=True)


def plan_get(*, key: str) -> Plan:
    return Plan.objects.get(key=key, public=True)


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@dataclass(frozen=True)
class SiteMeter:
    site: Site
    storage_used: int
    storage_limit: int
    bandwidth_used: int
    bandwidth_limit: int


@dataclass(frozen=True)
class Usage:
    """A team's plan and what it uses of each limit, counted from its records."""

    team: Team
    plan: Plan
    subscription: Subscription | None
    allowances: dict[str, Allowance]
    storage_used: int
    bandwidth_used: int
    sites: list[SiteMeter]
    backup_storage: int = 0

    @property
    def meters(self) -> list[Allowance]:
        return list(self.allowances.values())


def team_usage(*, team: Team) -> Usage:
    subscription = subscription_of(team)
    plan = plan_of_subscription(subscription)
    allowances = {name: plan_allows(team, name, adding=0) for name in COUNTED}
    first = month_start().date()
    sites = list(
        Site.objects.filter(team=team)
        .annotate(
            month_bytes=Sum("bandwidth_days__bytes_sent", filter=Q(bandwidth_days__day__gte=first)),
            storage_in_use=storage_in_use(),
        )
        .order_by("name")
    )
    repository = backup_storage_of(team=team)
    meters = [
        SiteMeter(
            site=site,
            storage_used=site.storage_in_use,
            storage_limit=site.storage_limit,
            bandwidth_used=site.month_bytes or 0,
            bandwidth_limit=site.bandwidth_limit,
        )
        for site in sites
    ]
    return Usage(
        team=team,
        plan=plan,
        subscription=subscription,
        allowances=allowances,
        storage_used=sum(m.storage_used for m in meters),
        bandwidth_used=sum(m.bandwidth_used for m in meters),
        sites=meters,
        backup_storage=repository.stored_bytes if repository else 0,
    )


def bandwidth_this_month(*, team: Team) -> int:
    first: date = month_start().date()
    total = SiteBandwidth.objects.filter(site__team=team, day__gte=first).aggregate(
        total=Sum("bytes_sent")
    )["total"]
    return total or 0


def limit_rows(plan: Plan) -> list[tuple[str, int | None, str]]:
    """(label, value, unit) of every limit of ``plan``, for the pages."""
    return [(label, plan.limit(name), unit) for name, (label, unit) in LIMITS.items()]


def invoice_list(*, team: Team):
    return Invoice.objects.for_team(team).prefetch_related("lines")


def invoice_get(*, user, pk) -> Invoice:
    """An invoice of one of ``user``'s teams (DoesNotExist for anyone else's)."""
    return Invoice.objects.for_member(user).prefetch_related("lines").get(pk=pk)


def transaction_list(
    *, team_id=None, kind: str = "", since: date | None = None, until: date | None = None
):
    """The ledger for operators, newest first, filtered."""
    rows = Transaction.objects.select_related("invoice")
    if team_id:
        rows = rows.filter(team_id=team_id)
    if kind:
        rows = rows.filter(kind=kind)
    if since:
        rows = rows.filter(created_at__date__gte=since)
    if until:
        rows = rows.filter(created_at__date__lte=until)
    return rows


def purchase_open(*, kind: str, subject: str) -> Purchase | None:
    """The purchase of ``subject`` still awaiting payment or delivery, if any."""
    return Purchase.objects.filter(kind=kind, subject=subject, status__in=Purchase.OPEN).first()


def purchase_get(*, user, pk) -> Purchase:
    """A purchase of one of ``user``'s teams (DoesNotExist for anyone else's)."""
    return Purchase.objects.for_member(user).select_related("invoice", "team").get(pk=pk)


def purchase_list(*, team: Team):
    return Purchase.objects.for_team(team).select_related("invoice")


def purchases_awaiting_payment(*, team: Team | None):
    """The team's orders not paid yet, oldest first (none without a team)."""
    if team is None:
        return Purchase.objects.none()
    pending = Purchase.objects.for_team(team).filter(status=Purchase.Status.PENDING)
    return pending.order_by("created_at")[:20]
