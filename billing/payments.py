"""Stripe, through the ``stripe`` library: Checkout, the customer portal, and mirroring
Stripe's subscriptions and invoices into Berth's rows.

Every sync reads the current object from Stripe rather than trusting an event's copy, so a
duplicate, replayed or out-of-order event leaves the same state as one ordered delivery.
Only used when ``STRIPE_SECRET_KEY`` is set; without it the built-in provider serves.
"""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing.limits import plan_default
from billing.models import Invoice, InvoiceLine, Plan, Subscription, Transaction
from billing.services import (
    invoice_number_next,
    plan_limits_apply,
    subscription_past_due_notice,
    subscription_set,
    transaction_record,
)
from teams.audit import audit_record
from teams.models import Team


class _Stripe:
    """The ``stripe`` module, imported on first use: ~30 MiB in every process otherwise, and
    only installations with ``STRIPE_SECRET_KEY`` call it."""

    def __getattr__(self, name):
        return getattr(importlib.import_module("stripe"), name)

    def __setattr__(self, name, value):
        setattr(importlib.import_module("stripe"), name, value)


stripe = _Stripe()


log = logging.getLogger(__name__)

# Stripe's subscription statuses in Berth's words.
STATUSES = {
    "active": Subscription.Status.ACTIVE,
    "trialing": Subscription.Status.TRIALING,
    "past_due": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.PAST_DUE,
    "incomplete": Subscription.Status.INCOMPLETE,
    "incomplete_expired": Subscription.Status.CANCELED,
    "canceled": Subscription.Status.CANCELED,
    "paused": Subscription.Status.SUSPENDED,
}
INVOICE_STATUSES = {value: value for value in Invoice.Status.values}


class PaymentError(ValidationError):
    """Stripe refused or could not be reached; the message says what to do."""


def client():
    """The ``stripe`` module configured from settings (``STRIPE_API_BASE`` for a local
    Stripe-compatible server)."""
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentError("Online payment is not configured.")
    stripe.api_key = settings.STRIPE_SECRET_KEY
    stripe.api_base = settings.STRIPE_API_BASE or "https://api.stripe.com"
    stripe.max_network_retries = 2
    return importlib.import_module("stripe")


def from_timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def from_cents(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def _panel(path: str) -> str:
    return settings.PANEL_URL + path


# --- customers, Checkout and the portal -------------------------------------------------------
def customer_for(team: Team) -> str:
    """The team's Stripe customer id, made on first use."""
    subscription = Subscription.objects.filter(team=team).first()
    if subscription is not None and subscription.stripe_customer_id:
        return subscription.stripe_customer_id
    try:
        customer = client().Customer.create(
            name=team.name[:200], metadata={"team_id": str(team.pk)}
        )
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe could not be reached: {exc.user_message or exc}") from exc
    with transaction.atomic():
        if subscription is None:
            subscription = subscription_set(team=team, plan=plan_default())
        Subscription.objects.filter(pk=subscription.pk).update(stripe_customer_id=customer.id)
    return customer.id


def _line_item(plan: Plan, interval: str) -> dict:
    price_id = plan.stripe_price_yearly if interval == "year" else plan.stripe_price_monthly
    if price_id:
        return {"price": price_id, "quantity": 1}
    return {
        "quantity": 1,
        "price_data": {
            "currency": plan.currency.lower(),
            "unit_amount": int(plan.price(interval) * 100),
            "recurring": {"interval": interval},
            "product_data": {"name": f"{plan.name} plan"},
        },
    }


def checkout_start(*, team: Team, plan: Plan, interval: str, actor) -> str:
    """A Stripe Checkout session subscribing ``team`` to ``plan``; returns its URL. The plan
    applies when Stripe reports the subscription (webhook or reconciliation)."""
    if plan.is_free:
        raise ValidationError({"plan": ["A free plan needs no payment."]})
    current = Subscription.objects.filter(team=team).first()
    if current and current.stripe_subscription_id and current.in_good_standing:
        raise ValidationError(
            {"plan": ["This team already pays through Stripe: change the plan in the portal."]}
        )
    metadata = {"team_id": str(team.pk), "plan": plan.key, "interval": interval}
    try:
        session = client().checkout.Session.create(
            mode="subscription",
            customer=customer_for(team),
            client_reference_id=str(team.pk),
            line_items=[_line_item(plan, interval)],
            metadata=metadata,
            subscription_data={"metadata": metadata},
            success_url=_panel(reverse("billing:index")) + "?checkout=done",
            cancel_url=_panel(reverse("billing:index")) + "?checkout=cancelled",
        )
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe refused the checkout: {exc.user_message or exc}") from exc
    audit_record(
        team=team,
        actor=actor,
        action="billing.checkout",
        details={"plan": plan.key, "interval": interval, "session": session.id},
    )
    return session.url


def portal_url(*, team: Team) -> str:
    """A customer-portal session for the team's card, plan changes and cancellation."""
    try:
        session = client().billing_portal.Session.create(
            customer=customer_for(team), return_url=_panel(reverse("billing:index"))
        )
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe could not open the portal: {exc.user_message or exc}") from exc
    return session.url


# --- one-off payments (domain registrations and renewals) ------------------------------------
class PaymentDeclined(PaymentError):
    """A charge of the saved card was refused (or there is no card); the message says why."""


def checkout_payment_start(
    *, team: Team, purchase_id: str, description: str, amount: Decimal, currency: str, return_url
) -> dict:
    """A Checkout session in payment mode for one purchase; returns its id and URL. What the
    customer bought is delivered when Stripe reports the session paid."""
    metadata = {"team_id": str(team.pk), "purchase_id": purchase_id}
    try:
        session = client().checkout.Session.create(
            mode="payment",
            customer=customer_for(team),
            client_reference_id=str(team.pk),
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": int(amount * 100),
                        "product_data": {"name": description[:250]},
                    },
                }
            ],
            metadata=metadata,
            payment_intent_data={"metadata": metadata},
            success_url=return_url + "?checkout=done",
            cancel_url=return_url + "?checkout=cancelled",
        )
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe refused the checkout: {exc.user_message or exc}") from exc
    return {"id": session.id, "url": session.url}


def _session_state(session) -> dict:
    session = session.to_dict()
    intent = session.get("payment_intent")
    intent_id = intent if isinstance(intent, str) else (intent or {}).get("id", "")
    return {
        "status": session.get("status") or "open",
        "paid": session.get("payment_status") == "paid",
        "payment_intent": intent_id or "",
    }


def checkout_session_state(session_id: str) -> dict:
    """What Stripe says of a Checkout session now: ``status`` (open, complete, expired),
    ``paid`` and its ``payment_intent``."""
    try:
        return _session_state(client().checkout.Session.retrieve(session_id))
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe could not be read: {exc.user_message or exc}") from exc


def checkout_session_expire(session_id: str) -> dict:
    """Close an open Checkout session so it can no longer be paid (one already paid stays
    paid: the state says so)."""
    state = checkout_session_state(session_id)
    if state["status"] != "open":
        return state
    try:
        return _session_state(client().checkout.Session.expire(session_id))
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe could not close the checkout: {exc}") from exc


def charge_saved_card(*, team: Team, amount: Decimal, currency: str, metadata: dict) -> str:
    """Charge the team's saved card now, unattended; returns the payment intent's id. Raises
    ``PaymentDeclined`` when there is no card or the charge is refused."""
    subscription = Subscription.objects.filter(team=team).first()
    customer_id = subscription.stripe_customer_id if subscription else ""
    if not customer_id:
        raise PaymentDeclined("No card is saved for this team.")
    try:
        customer = client().Customer.retrieve(customer_id).to_dict()
        method = (customer.get("invoice_settings") or {}).get("default_payment_method")
        if not method:
            raise PaymentDeclined("No card is saved for this team.")
        intent = client().PaymentIntent.create(
            amount=int(amount * 100),
            currency=currency.lower(),
            customer=customer_id,
            payment_method=method if isinstance(method, str) else method["id"],
            off_session=True,
            confirm=True,
            metadata=metadata,
        )
    except stripe.CardError as exc:
        raise PaymentDeclined(f"The card was declined ({exc.user_message or exc}).") from exc
    except stripe.StripeError as exc:
        raise PaymentDeclined(f"Stripe could not charge the card ({exc}).") from exc
    if intent.status != "succeeded":
        raise PaymentDeclined(f"The payment did not go through ({intent.status}).")
    return intent.id


def refund_payment(payment_intent: str) -> str:
    """Refund a payment whole; returns the refund's id."""
    try:
        return client().Refund.create(payment_intent=payment_intent).id
    except stripe.StripeError as exc:
        raise PaymentError(f"Stripe refused the refund: {exc.user_message or exc}") from exc


# --- mirroring Stripe's objects -----------------------------------------------------------------
def team_of(obj) -> Team | None:
    metadata = obj.get("metadata") or {}
    team_id = metadata.get("team_id")
    if team_id:
        team = Team.objects.filter(pk=team_id).first()
        if team is not None:
            return team
    customer = obj.get("customer")
    customer_id = customer if isinstance(customer, str) else (customer or {}).get("id")
    if customer_id:
        row = Subscription.objects.filter(stripe_customer_id=customer_id).first()
        return row.team if row else None
    return None


def _plan_of(stripe_subscription) -> Plan | None:
    items = (stripe_subscription.get("items") or {}).get("data") or []
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        price_id = price.get("id") if isinstance(price, dict) else price
        if price_id:
            plan = Plan.objects.filter(stripe_price_monthly=price_id).first()
            if plan:
                return plan
            plan = Plan.objects.filter(stripe_price_yearly=price_id).first()
            if plan:
                return plan
    key = (stripe_subscription.get("metadata") or {}).get("plan")
    return Plan.objects.filter(key=key).first() if key else None


def _interval_of(stripe_subscription) -> str:
    items = (stripe_subscription.get("items") or {}).get("data") or []
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        recurring = price.get("recurring") or {} if isinstance(price, dict) else {}
        interval = recurring.get("interval") or (price.get("interval") if price else None)
        if interval in Subscription.Interval.values:
            return interval
    interval = (stripe_subscription.get("metadata") or {}).get("interval")
    return interval if interval in Subscription.Interval.values else "month"


def subscription_sync(stripe_subscription_id: str) -> Subscription | None:
    """Make the team's subscription say what Stripe's says now (read from Stripe)."""
    try:
        remote = client().Subscription.retrieve(stripe_subscription_id)
    except stripe.InvalidRequestError:
        return None
    return subscription_apply(remote.to_dict(for_json=True))


def subscription_apply(remote: dict) -> Subscription | None:
    """Apply one Stripe subscription (its current state, as a dict) to the team it belongs to."""
    team = team_of(remote)
    plan = _plan_of(remote)
    if team is None or plan is None:
        log.warning("Stripe subscription %s names no team or plan", remote.get("id"))
        return None
    status = STATUSES.get(remote.get("status"), Subscription.Status.INCOMPLETE)
    current = Subscription.objects.filter(team=team).first()
    if (
        current is not None
        and current.stripe_subscription_id
        and current.stripe_subscription_id != remote["id"]
        and current.in_good_standing
        and status == Subscription.Status.CANCELED
    ):
        return current  # an old subscription ending does not end the newer one
    if status == Subscription.Status.CANCELED:
        plan = plan_default()
    suspended = current is not None and current.status == Subscription.Status.SUSPENDED
    if status == Subscription.Status.PAST_DUE and suspended:
        status = Subscription.Status.SUSPENDED  # the grace period ran out: it stays so
    now = timezone.now()
    fields = {
        "stripe_subscription_id": remote["id"],
        "current_period_start": from_timestamp(_period(remote, "current_period_start")),
        "current_period_end": from_timestamp(_period(remote, "current_period_end")),
        "stripe_synced_at": now,
    }
    if isinstance(remote.get("customer"), str):
        fields["stripe_customer_id"] = remote["customer"]
    if status == Subscription.Status.PAST_DUE:
        fields["past_due_since"] = (current.past_due_since if current else None) or now
    if status == Subscription.Status.SUSPENDED:
        fields["past_due_since"] = current.past_due_since if current else now
        fields["suspended_at"] = (current.suspended_at if current else None) or now
    unchanged = (
        current is not None
        and current.plan_id == plan.pk
        and current.status == status
        and current.provider == Subscription.Provider.STRIPE
        and current.stripe_subscription_id == remote["id"]
    )
    if unchanged:
        Subscription.objects.filter(pk=current.pk).update(
            cancel_at_period_end=bool(remote.get("cancel_at_period_end")), **fields
        )
        current.refresh_from_db()
        return current
    subscription = subscription_set(
        team=team,
        plan=plan,
        interval=_interval_of(remote),
        provider=Subscription.Provider.STRIPE,
        status=status,
        **fields,
    )
    Subscription.objects.filter(pk=subscription.pk).update(
        cancel_at_period_end=bool(remote.get("cancel_at_period_end"))
    )
    plan_limits_apply(team=team)
    subscription.refresh_from_db()
    was_overdue = current is not None and current.status == Subscription.Status.PAST_DUE
    if status == Subscription.Status.PAST_DUE and not was_overdue:
        subscription_past_due_notice(subscription=subscription)
    return subscription


def _period(remote, name: str):
    if remote.get(name):
        return remote.get(name)
    items = (remote.get("items") or {}).get("data") or []
    return items[0].get(name) if items else None


def invoice_sync(stripe_invoice_id: str) -> Invoice | None:
    """Mirror one Stripe invoice (read from Stripe now) and record its payment once."""
    try:
        remote = client().Invoice.retrieve(stripe_invoice_id)
    except stripe.InvalidRequestError:
        return None
    return invoice_apply(remote.to_dict(for_json=True))


def invoice_apply(remote: dict) -> Invoice | None:
    """Mirror one Stripe invoice (as a dict) into Berth's row of it."""
    team = team_of(remote)
    if team is None:
        return None
    status = INVOICE_STATUSES.get(remote.get("status") or "", Invoice.Status.DRAFT)
    total = from_cents(remote.get("total"))
    subtotal = from_cents(remote.get("subtotal"))
    tax = from_cents(remote.get("tax")) if remote.get("tax") is not None else total - subtotal
    if subtotal + tax != total:
        subtotal = total - tax
    paid_at = None
    transitions = remote.get("status_transitions") or {}
    if status == Invoice.Status.PAID:
        paid_at = from_timestamp(transitions.get("paid_at")) or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(stripe_invoice_id=remote["id"]).first()
        fields = {
            "team": team,
            "team_name": team.name,
            "provider": Subscription.Provider.STRIPE,
            "status": status,
            "currency": (remote.get("currency") or settings.BILLING_CURRENCY).upper(),
            "subtotal": subtotal,
            "tax": tax,
            "total": total,
            "period_start": from_timestamp(remote.get("period_start")),
            "period_end": from_timestamp(remote.get("period_end")),
            "paid_at": paid_at,
            "hosted_url": remote.get("hosted_invoice_url") or "",
            "stripe_pdf_url": remote.get("invoice_pdf") or "",
            "stripe_synced_at": timezone.now(),
        }
        if invoice is None:
            invoice = Invoice.objects.create(
                stripe_invoice_id=remote["id"],
                number=remote.get("number") or invoice_number_next(),
                issued_at=from_timestamp(remote.get("created")) or timezone.now(),
                **fields,
            )
        else:
            Invoice.objects.filter(pk=invoice.pk).update(**fields)
            invoice.refresh_from_db()
        invoice.lines.all().delete()
        lines = (remote.get("lines") or {}).get("data") or []
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                description=(line.get("description") or "Subscription")[:300],
                quantity=line.get("quantity") or 1,
                unit_amount=from_cents(line.get("amount")) / (line.get("quantity") or 1),
                amount=from_cents(line.get("amount")),
                period_start=from_timestamp((line.get("period") or {}).get("start")),
                period_end=from_timestamp((line.get("period") or {}).get("end")),
            )
            for line in lines
        )
        if status == Invoice.Status.PAID and total > 0:
            transaction_record(
                team=team,
                kind=Transaction.Kind.CHARGE,
                amount=total,
                currency=invoice.currency,
                description=f"Payment of invoice {invoice.number}",
                invoice=invoice,
                provider=Subscription.Provider.STRIPE,
                reference=f"stripe:invoice-paid:{remote['id']}",
                created_at=paid_at,
            )
    return invoice


# --- reconciliation -----------------------------------------------------------------------------
def stripe_reconcile() -> list[str]:
    """Compare every Stripe-billed team with Stripe (subscriptions and their invoices) and
    correct what differs; returns one line per correction (a dropped webhook, say)."""
    corrections = []
    rows = Subscription.objects.exclude(stripe_customer_id="").select_related("plan", "team")
    for row in rows:
        before = (row.plan.key, row.status)
        remote_subs = client().Subscription.list(
            customer=row.stripe_customer_id, status="all", limit=10
        )
        listed = [sub.to_dict(for_json=True) for sub in remote_subs.data]
        newest = max(listed, key=lambda sub: sub.get("created") or 0, default=None)
        if newest is not None:
            after = subscription_apply(newest)
            if after is not None and (after.plan.key, after.status) != before:
                corrections.append(
                    f"{row.team}: {before[0]} ({before[1]}) -> {after.plan.key} ({after.status})"
                )
        invoices = client().Invoice.list(customer=row.stripe_customer_id, limit=20).data
        for remote in (invoice.to_dict(for_json=True) for invoice in invoices):
            mirrored = Invoice.objects.filter(stripe_invoice_id=remote["id"]).first()
            if mirrored is None or mirrored.status != remote.get("status"):
                invoice_apply(remote)
                was = mirrored.status if mirrored else "missing"
                corrections.append(
                    f"{row.team}: invoice {remote['id']} {was} -> {remote['status']}"
                )
    return corrections
