"""The one check of a plan's limits, called at every door that makes a limited thing.

``plan_allows(team, "sites")`` answers how much of a limit is used and whether one more fits;
``plan_enforce(team, "sites")`` raises ``PlanLimitExceeded`` when it does not. The site form,
the sites API (every client's spelling), the domains form and API, invitations, the build
queue (HTML, API, git webhook) and the build worker all go through here.

``PlanLimitExceeded`` is a ``ValidationError`` (forms show its message where they show any
other), carrying what the API envelope answers: 402 ``PLAN_LIMIT_EXCEEDED`` with
``{limit, used, plan, upgradeUrl}`` in ``details``.

Storage and bandwidth are limits of each site: the plan's values are copied onto the team's
sites (``billing.services.plan_limits_apply``) where the file manager's atomic quota update and
the serving figures read them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from billing.models import LIMITS, Plan, Purchase, Subscription
from controlpanel.prepared import PreparedQuery
from deployments.models import Deployment
from domains.models import Domain
from hosting.models import Site
from teams.models import Invitation, Membership, Team

PLAN_LIMIT_EXCEEDED = "PLAN_LIMIT_EXCEEDED"
ACCOUNT_SUSPENDED = "ACCOUNT_SUSPENDED"
COUNTED = (
    "sites",
    "wordpress_sites",
    "custom_domains",
    "members",
    "concurrent_builds",
    "build_minutes",
)


UNLIMITED_BYTES = 2**62


def site_storage_limit(plan: Plan) -> int:
    return UNLIMITED_BYTES if plan.storage_bytes is None else plan.storage_bytes


def site_bandwidth_limit(plan: Plan) -> int:
    return UNLIMITED_BYTES if plan.bandwidth_bytes is None else plan.bandwidth_bytes


def site_limits_for(team: Team) -> dict:
    """The per-site limits a new site of ``team`` starts with."""
    plan = plan_of(team)
    return {
        "storage_limit": site_storage_limit(plan),
        "bandwidth_limit": site_bandwidth_limit(plan),
    }


def upgrade_url() -> str:
    return settings.PANEL_URL + reverse("billing:index")


# Read for every page and list that shows a plan's limits: compiled once per process
# (controlpanel.prepared).
_PLAN_BY_KEY = PreparedQuery(lambda key: Plan.objects.filter(key=key))
_TEAM_SUBSCRIPTION = PreparedQuery(
    lambda team_id: Subscription.objects.select_related("plan").filter(team_id=team_id)
)


def plan_default() -> Plan:
    """The plan every team starts on (made from settings if an operator deleted it)."""
    key = settings.BILLING_DEFAULT_PLAN
    plan = _PLAN_BY_KEY(key).first()
    if plan is None:
        plan, _ = Plan.objects.get_or_create(key=key, defaults=plan_defaults(key))
    return plan


def plan_defaults(key: str) -> dict:
    """A plan's fields as settings.BILLING_PLANS describes it."""
    spec = dict(settings.BILLING_PLANS[key])
    position = list(settings.BILLING_PLANS).index(key)
    return {"currency": settings.BILLING_CURRENCY, "position": position, **spec}


def subscription_of(team: Team) -> Subscription | None:
    """The team's subscription, read afresh (a plan change holds at once)."""
    return _TEAM_SUBSCRIPTION(getattr(team, "pk", team)).first()


def plan_of(team: Team) -> Plan:
    """The plan whose limits hold for ``team``: its subscription's, unless that was cancelled
    (then the default plan)."""
    return plan_of_subscription(subscription_of(team))


def plan_of_subscription(subscription: Subscription | None) -> Plan:
    if subscription is None or subscription.status == Subscription.Status.CANCELED:
        return plan_default()
    return subscription.plan


def team_suspended(team: Team) -> bool:
    subscription = subscription_of(team)
    return subscription is not None and subscription.status == Subscription.Status.SUSPENDED


def month_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def build_seconds_this_month(team: Team) -> int:
    total = Deployment.objects.filter(
        site__team=team, finished_at__gte=month_start(), build_duration__isnull=False
    ).aggregate(seconds=Sum("build_duration"))["seconds"]
    return total or 0


def usage(team: Team, limit: str) -> int:
    """How much of ``limit`` the team uses now, counted from its records."""
    if limit == "sites":
        return Site.objects.filter(team=team).count()
    if limit == "wordpress_sites":
        return Site.objects.filter(team=team, kind=Site.Kind.WORDPRESS).count()
    if limit == "custom_domains":  # registrations ordered and not yet done count too
        ordered = Purchase.objects.filter(
            team=team, kind=Purchase.Kind.DOMAIN_REGISTRATION, status__in=Purchase.OPEN
        )
        return Domain.objects.filter(team=team).count() + ordered.count()
    if limit == "members":
        invited = Invitation.objects.filter(
            team=team, status=Invitation.Status.PENDING, expires_at__gt=timezone.now()
        ).count()
        return Membership.objects.filter(team=team).count() + invited
    if limit == "concurrent_builds":
        return Deployment.objects.filter(
            site__team=team,
            status__in=[Deployment.Status.BUILDING, Deployment.Status.DEPLOYING],
        ).count()
    if limit == "build_minutes":
        return math.ceil(build_seconds_this_month(team) / 60)
    raise ValueError(f"{limit!r} is a limit of each site, not counted for a team")


@dataclass(frozen=True)
class Allowance:
    """What ``plan_allows`` answers: the limit's name, how much is used, the plan's limit
    (None: unlimited), the plan, and whether ``adding`` more fits."""

    limit_name: str
    used: int
    limit: int | None
    plan: Plan
    allowed: bool
    suspended: bool = False

    @property
    def label(self) -> str:
        return LIMITS[self.limit_name][0]

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    def message(self) -> str:
        if self.suspended:
            return (
                "This team is suspended because its payment failed; pay the open invoice on the "
                "billing page to restore it."
            )
        unit = LIMITS[self.limit_name][1]
        amount = f"{self.limit} {unit}".strip() if unit else str(self.limit)
        return (
            f"The {self.plan.name} plan allows {amount} ({self.label.lower()}); this team "
            f"uses {self.used}. Upgrade the plan on the billing page for more."
        )

    def details(self) -> dict:
        return {
            "limit": self.limit,
            "used": self.used,
            "plan": self.plan.key,
            "upgradeUrl": upgrade_url(),
            "name": self.limit_name,
        }


class PlanLimitExceeded(ValidationError):
    """A refusal because of the team's plan (or its suspension): 402 through the API."""

    api_status = 402

    def __init__(self, allowance: Allowance):
        super().__init__(allowance.message(), code="plan_limit")
        self.allowance = allowance
        self.api_code = ACCOUNT_SUSPENDED if allowance.suspended else PLAN_LIMIT_EXCEEDED
        self.api_details = allowance.details()


def plan_allows(team: Team, limit: str, *, adding: int = 1) -> Allowance:
    """May ``team`` add ``adding`` more of ``limit`` (``build_minutes``: start a build)?

    A suspended team may add nothing."""
    if limit not in COUNTED:
        raise ValueError(f"Unknown counted limit {limit!r}; one of {', '.join(COUNTED)}")
    subscription = subscription_of(team)
    plan = plan_of_subscription(subscription)
    used = usage(team, limit)
    most = plan.limit(limit)
    if subscription is not None and subscription.status == Subscription.Status.SUSPENDED:
        return Allowance(limit, used, most, plan, allowed=False, suspended=True)
    if most is None:
        allowed = True
    elif limit == "build_minutes":
        allowed = used < most
    else:
        allowed = used + adding <= most
    return Allowance(limit, used, most, plan, allowed=allowed)


def plan_enforce(team: Team, limit: str, *, adding: int = 1) -> Allowance:
    """``plan_allows``, raising ``PlanLimitExceeded`` on a refusal.

    Inside a transaction the team's row is locked first, so two requests racing for the last
    site (or seat, or domain) cannot both pass."""
    if connection.in_atomic_block:
        Team.objects.select_for_update().filter(pk=team.pk).values_list("pk").first()
    allowance = plan_allows(team, limit, adding=adding)
    if not allowance.allowed:
        raise PlanLimitExceeded(allowance)
    return allowance
