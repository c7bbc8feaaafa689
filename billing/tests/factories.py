"""Plans with chosen limits, and teams put on them, for the tests of every app."""

from __future__ import annotations

from decimal import Decimal

from billing.limits import plan_default
from billing.models import Plan
from billing.services import subscription_set


def free_plan_limits(**limits) -> Plan:
    """Change the default (free) plan's limits, as an operator would in the admin."""
    plan = plan_default()
    Plan.objects.filter(pk=plan.pk).update(**limits)
    plan.refresh_from_db()
    return plan


def make_plan(key: str = "tiny", *, price: str = "0", **limits) -> Plan:
    fields = {
        "name": key.title(),
        "price_monthly": Decimal(price),
        "price_yearly": Decimal(price) * 10,
        "currency": "USD",
        **limits,
    }
    plan, _ = Plan.objects.update_or_create(key=key, defaults=fields)
    return plan


def team_on_plan(team, key: str = "tiny", *, price: str = "0", **limits):
    """Put ``team`` on a plan of its own with ``limits`` (the others unlimited)."""
    plan = make_plan(key, price=price, **limits)
    return subscription_set(team=team, plan=plan)
