"""Stripe end to end with the real ``stripe`` library against localstripe and the test front
(Checkout and portal sessions): subscribing through Checkout changes limits at once, webhooks
are verified, stored once and order-independent, a failed payment suspends the team after the
grace period and a later payment restores it, invoices are mirrored, reconciliation repairs a
dropped event."""

from __future__ import annotations

import contextlib
import json
import random
import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.core import mail
from django.utils import timezone

from billing import payments
from billing.models import Invoice, Plan, StripeEvent, Subscription, Transaction
from billing.services import subscriptions_enforce
from billing.tests.factories import free_plan_limits
from billing.tests.stripe_servers import deliver, sign, until
from conftest import bearer_client
from hosting.models import Site
from hosting.services import site_create
from teams.services import acting_team

pytestmark = pytest.mark.django_db


def subscribe(web, servers) -> tuple[str, list]:
    """Alice confirms the Standard plan, pays on Checkout; answers the subscription id and
    the signed deliveries Stripe made."""
    confirm = web.get("/billing/subscribe/?plan=standard&interval=month").content.decode()
    assert "Confirm and pay 19.00 USD" in confirm and "a month" in confirm
    answer = web.post("/billing/subscribe/", {"plan": "standard", "interval": "month"})
    assert answer.status_code == 302 and answer["Location"].startswith(f"{servers.url}/pay/")
    session_id = answer["Location"].rsplit("/", 1)[1]
    subscription_id = servers.complete_checkout(session_id)
    deliveries = until(
        servers,
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.payment_succeeded",
    )
    return subscription_id, deliveries


def state(team) -> dict:
    """What a customer and an operator can see of the team's billing."""
    subscription = Subscription.objects.get(team=team)
    return {
        "plan": subscription.plan.key,
        "status": subscription.status,
        "provider": subscription.provider,
        "invoices": sorted(
            (i.stripe_invoice_id, i.status, str(i.total), i.lines.count())
            for i in Invoice.objects.filter(team=team)
        ),
        "ledger": sorted(
            (t.kind, str(t.amount), t.reference) for t in Transaction.objects.filter(team=team)
        ),
        "storage": sorted(Site.objects.filter(team=team).values_list("storage_limit", flat=True)),
    }


def test_checkout_subscribes_and_limits_change_at_once(web, api, alice, online):
    team = acting_team(alice)
    free_plan_limits(sites=1)
    site_create(owner=alice, name="First")
    assert api.post("/api/sites/create", {"name": "Second"}, format="json").status_code == 402

    subscription_id, deliveries = subscribe(web, online)
    for payload, signature in deliveries:
        assert deliver(web, payload, signature).status_code == 200

    subscription = Subscription.objects.get(team=team)
    assert (subscription.plan.key, subscription.status) == ("standard", "active")
    assert subscription.provider == "stripe"
    assert subscription.stripe_subscription_id == subscription_id
    assert api.post("/api/sites/create", {"name": "Second"}, format="json").status_code == 201
    assert set(Site.objects.filter(team=team).values_list("storage_limit", flat=True)) == {
        10 * 1024**3
    }
    invoice = Invoice.objects.get(team=team)
    assert invoice.provider == "stripe" and invoice.status == "paid"
    assert invoice.total == Decimal("19.00") and invoice.lines.count() == 1
    charge = Transaction.objects.get(team=team)
    assert (charge.kind, charge.amount, charge.invoice) == ("charge", Decimal("19.00"), invoice)
    pdf = web.get(f"/billing/invoices/{invoice.pk}/pdf")
    assert pdf.content.startswith(b"%PDF") and invoice.number.encode() in pdf.content
    body = api.get("/api/billing/subscription").json()
    assert body["onlinePayment"] is True and body["plan"] == "standard"
    portal = api.post("/api/billing/portal").json()
    assert portal["url"] == f"{online.url}/portal/{subscription.stripe_customer_id}"
    api_checkout = api.post("/api/billing/subscribe", {"plan": "enterprise"}, format="json")
    assert api_checkout.status_code == 422  # already paying: plan changes go through the portal


def test_api_subscribe_answers_the_checkout_url(api, alice, online):
    answer = api.post("/api/billing/subscribe", {"plan": "standard"}, format="json").json()
    assert answer["status"] == "checkout"
    assert answer["checkoutUrl"].startswith(f"{online.url}/pay/cs_test_")


def test_webhooks_replayed_three_times_in_any_order_leave_the_same_state(web, alice, online):
    team = acting_team(alice)
    site_create(owner=alice, name="First")
    _, deliveries = subscribe(web, online)
    for payload, signature in deliveries:
        deliver(web, payload, signature)
    ordered = state(team)
    assert ordered["plan"] == "standard" and ordered["ledger"][0][0] == "charge"

    shuffled = deliveries * 3
    random.Random(7).shuffle(shuffled)
    for payload, signature in shuffled:
        assert deliver(web, payload, signature).status_code == 200
    assert state(team) == ordered
    assert StripeEvent.objects.count() == len(deliveries)
    assert set(StripeEvent.objects.values_list("deliveries", flat=True)) == {4}


def test_shuffled_first_delivery_matches_the_ordered_outcome(web, alice, online):
    team = acting_team(alice)
    _, deliveries = subscribe(web, online)
    reversed_order = list(reversed(deliveries))
    for payload, signature in reversed_order:
        deliver(web, payload, signature)
    assert state(team)["plan"] == "standard" and state(team)["status"] == "active"
    assert len(state(team)["ledger"]) == 1


def test_a_bad_signature_is_refused_and_stored_nowhere(web, alice, online):
    payload = json.dumps({"id": "evt_forged", "type": "invoice.paid", "data": {}}).encode()
    assert deliver(web, payload, sign(payload, secret="whsec_wrong")).status_code == 400
    assert deliver(web, payload, "").status_code == 400
    old = sign(payload, timestamp=int(timezone.now().timestamp()) - 3600)
    assert deliver(web, payload, old).status_code == 400  # a replay from long ago
    assert not StripeEvent.objects.exists()


def test_failed_payment_suspends_after_grace_and_a_payment_restores(
    web, api, alice, online, django_capture_on_commit_callbacks
):
    team = acting_team(alice)
    subscription_id, deliveries = subscribe(web, online)
    for payload, signature in deliveries:
        deliver(web, payload, signature)
    subscription = Subscription.objects.get(team=team)
    customer = subscription.stripe_customer_id

    # The next period's payment fails: the card on file is declined.
    stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=customer)
    stripe.Customer.modify(
        customer, invoice_settings={"default_payment_method": "pm_card_chargeCustomerFail"}
    )
    stripe.InvoiceItem.create(customer=customer, amount=1900, currency="usd")
    renewal = stripe.Invoice.create(customer=customer, subscription=subscription_id)
    with contextlib.suppress(stripe.StripeError):  # declined, as the card says
        stripe.Invoice.pay(renewal.id)
    assert stripe.Invoice.retrieve(renewal.id).status == "open"
    online.renewal_failed(subscription_id, renewal.id)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for payload, signature in until(online, "invoice.payment_failed"):
            deliver(web, payload, signature)
    subscription.refresh_from_db()
    assert subscription.status == "past_due" and subscription.past_due_since
    assert Transaction.objects.filter(team=team, kind="failed_payment").count() == 1
    assert [m.subject for m in mail.outbox] == [f"Berth: payment failed for {team.name}"]
    assert api.post("/api/sites/create", {"name": "Grace"}, format="json").status_code == 201

    # The grace period runs out: suspended, told, and new things refused; data kept.
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions_enforce(now=timezone.now() + timedelta(days=8))
    subscription.refresh_from_db()
    assert subscription.status == "suspended"
    assert mail.outbox[-1].subject == f"Berth: {team.name} is suspended"
    refused = api.post("/api/sites/create", {"name": "Nope"}, format="json")
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "ACCOUNT_SUSPENDED"
    assert Site.objects.filter(team=team, name="Grace").exists()
    assert "This team is suspended" in web.get("/billing/").content.decode()

    # The customer fixes the card and the invoice is paid: restored without an operator.
    stripe.Customer.modify(customer, invoice_settings={"default_payment_method": "pm_card_visa"})
    stripe.Invoice.pay(renewal.id)
    for payload, signature in until(online, "invoice.payment_succeeded"):
        deliver(web, payload, signature)
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.suspended_at is None
    assert api.post("/api/sites/create", {"name": "Back"}, format="json").status_code == 201
    paid = Invoice.objects.get(stripe_invoice_id=renewal.id)
    assert paid.status == "paid"


def test_reconciliation_repairs_a_dropped_event(web, alice, online):
    team = acting_team(alice)
    subscribe(web, online)  # every webhook delivery is lost
    assert not Subscription.objects.filter(team=team, plan__key="standard").exists()
    corrections = payments.stripe_reconcile()
    subscription = Subscription.objects.get(team=team)
    assert (subscription.plan.key, subscription.status) == ("standard", "active")
    assert any("free (active) -> standard (active)" in line for line in corrections)
    assert Invoice.objects.filter(team=team, status="paid").count() == 1
    assert payments.stripe_reconcile() == []  # nothing left to correct


def test_a_plan_change_in_the_portal_applies_at_once(web, api, alice, online):
    """The customer moves to Enterprise in the portal (Stripe prorates); Stripe's
    customer.subscription.updated makes Berth's limits Enterprise's."""
    team = acting_team(alice)
    subscription_id, deliveries = subscribe(web, online)
    for payload, signature in deliveries:
        deliver(web, payload, signature)
    price = stripe.Plan.create(
        id=f"price_enterprise_{secrets.token_hex(4)}",
        amount=9900,
        currency="usd",
        interval="month",
        product={"name": "Enterprise"},
    )
    Plan.objects.filter(key="enterprise").update(stripe_price_monthly=price.id)
    stripe.Subscription.modify(subscription_id, items=[{"plan": price.id}], prorate=True)
    online.subscription_updated(subscription_id)
    for payload, signature in until(online, "customer.subscription.updated"):
        deliver(web, payload, signature)
    subscription = Subscription.objects.get(team=team)
    assert subscription.plan.key == "enterprise" and subscription.status == "active"
    assert api.get("/api/billing/usage").json()["usage"]["sites"]["limit"] is None


def test_a_credit_note_is_one_credit_in_the_ledger(web, alice, operator, online):
    team = acting_team(alice)
    for payload, signature in subscribe(web, online)[1]:
        deliver(web, payload, signature)
    customer = Subscription.objects.get(team=team).stripe_customer_id
    note = online.issue_credit_note(customer, 500, reason="order_change")
    for payload, signature in until(online, "credit_note.created") * 2:
        assert deliver(web, payload, signature).status_code == 200
    credit = Transaction.objects.get(team=team, kind="credit")
    assert (credit.amount, credit.currency) == (Decimal("5.00"), "USD")
    assert credit.reference == f"stripe:credit_note:{note['id']}"
    assert credit.description == f"Credit note {note['number']} (order change)"
    rows = bearer_client(operator).get("/api/admin/transactions?type=credit").json()
    assert [(r["type"], r["amount"]) for r in rows["transactions"]] == [("credit", 5.0)]
