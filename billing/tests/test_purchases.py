"""Domain registrations and renewals are paid before they are done: without Stripe through an
invoice the operator marks paid, with Stripe through Checkout in payment mode (the real
``stripe`` library against localstripe and the test front) or the saved card for automatic
renewals. A payment abandoned, declined or voided registers nothing and says so; a payment
delivered many times, in any order, registers once and is charged once."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice, Purchase, Subscription, Transaction
from billing.purchases import purchases_maintain
from billing.services import invoice_mark_paid, invoice_void, plans_seed
from billing.tests.factories import team_on_plan
from billing.tests.stripe_servers import deliver, until
from domains import services as domains
from domains.models import Domain, RegistryEntry
from domains.tests.factories import register_domain
from teams.services import acting_team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _registry(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.BERTH_REGISTRY_TLDS = {"test": "12.00", "berth": "0"}
    settings.PDNS_API_URL = ""
    settings.DNS_RESOLVERS = ["127.0.0.1:9"]
    settings.ACME_AUTO_ISSUE = False
    plans_seed()


def order_in_browser(web, name: str, years: int = 1):
    """Alice searches, sees the price on the confirmation page, and confirms."""
    confirm = web.get(f"/domains/register/?name={name}&years={years}")
    page = confirm.content.decode()
    total = Decimal("12.00") * years
    assert f"Pay {total} USD and register" in page and "Nothing is charged before" in page
    return web.post(
        "/domains/register/", {"name": name, "years": years, "site": "", "confirm_price": "12.00"}
    )


def registered(name: str) -> bool:
    return Domain.objects.filter(name=name, registration="active").exists()


# --- without Stripe: an invoice, registered once the operator marks it paid -----------------
def test_registration_waits_for_the_invoice_to_be_paid(web, client, alice, operator):
    team = acting_team(alice)
    answer = order_in_browser(web, "brand.test", years=2)
    purchase = Purchase.objects.get(team=team)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("billing:purchase", args=[purchase.pk])
    assert (purchase.status, purchase.amount, purchase.provider) == ("pending", 24, "builtin")
    assert not registered("brand.test") and not RegistryEntry.objects.exists()
    page = web.get(answer["Location"]).content.decode()
    assert 'data-purchase-status="pending"' in page and purchase.invoice.number in page
    assert "done as soon as the invoice is paid" in page
    # Ordering it again while it is unpaid is refused: one payment for one name.
    again = order_in_browser(web, "brand.test")
    assert again.status_code == 302 and Purchase.objects.count() == 1
    assert "already being paid for" in web.get(again["Location"]).content.decode()

    client.force_login(operator)
    for _ in range(2):  # marked paid twice: registered once, charged once
        client.post(
            "/admin/billing/invoice/",
            {"action": "mark_paid", "_selected_action": [purchase.invoice.pk]},
        )
    purchase.refresh_from_db()
    assert purchase.status == "fulfilled" and registered("brand.test")
    domain = Domain.objects.get(name="brand.test")
    assert purchase.details["domain_id"] == str(domain.pk) and domain.days_to_expiry >= 729
    assert list(Transaction.objects.values_list("kind", "amount")) == [("charge", 24)]
    web.force_login(alice)
    page = web.get(reverse("billing:purchase", args=[purchase.pk])).content.decode()
    assert 'data-purchase-status="fulfilled"' in page and "registered until" in page


def test_a_voided_invoice_registers_nothing_and_says_so(
    alice, operator, django_capture_on_commit_callbacks
):
    purchase = domains.domain_register(owner=alice, name="brand.test", confirm_price="12.00")
    with django_capture_on_commit_callbacks(execute=True):
        invoice_void(invoice=purchase.invoice, actor=operator)
    purchase.refresh_from_db()
    assert purchase.status == "canceled" and "voided: nothing was done" in purchase.message
    assert not registered("brand.test")
    assert [m.subject for m in mail.outbox] == [
        "Berth: Registration of brand.test (1 year): cancelled"
    ]
    with pytest.raises(Exception, match="is Void"):
        invoice_mark_paid(invoice=purchase.invoice)
    assert not registered("brand.test") and not Transaction.objects.exists()


def test_api_registration_answers_the_order_then_the_domain(api, alice):
    answer = api.post(
        "/api/domains",
        {"name": "brand.test", "register": True, "confirmPrice": "12.00"},
        format="json",
    )
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["status"] == "awaiting_payment" and body["checkoutUrl"] is None
    order = body["purchase"]
    assert (order["type"], order["status"], order["amount"]) == (
        "domain_registration",
        "pending",
        12.0,
    )
    assert order["invoice"].startswith("INV-") and order["domainId"] is None
    assert api.get("/api/domains").json()["domains"] == []  # nothing registered yet
    invoice_mark_paid(invoice=Invoice.objects.get(number=order["invoice"]))
    done = api.get(f"/api/billing/purchases/{order['id']}").json()
    assert done["status"] == "fulfilled" and done["domainId"]
    domain = api.get(f"/api/domains/{done['domainId']}").json()
    assert domain["name"] == "brand.test"

    # Cancelling an order: nothing charged, the invoice voided.
    other = api.post(
        "/api/domains",
        {"name": "other.test", "register": True, "confirmPrice": "12.00"},
        format="json",
    ).json()["purchase"]
    cancelled = api.post(f"/api/billing/purchases/{other['id']}/cancel").json()
    assert cancelled["status"] == "canceled" and not registered("other.test")
    assert Invoice.objects.get(number=other["invoice"]).status == "void"
    # A free name is registered at once.
    free = api.post(
        "/api/domains",
        {"name": "brand.berth", "register": True, "confirmPrice": "0.00"},
        format="json",
    )
    assert free.status_code == 201 and free.json()["name"] == "brand.berth"


def test_paid_but_taken_meanwhile_is_refunded(alice, django_capture_on_commit_callbacks):
    purchase = domains.domain_register(owner=alice, name="brand.test", confirm_price="12.00")
    RegistryEntry.objects.create(  # registered at the registry by someone else meanwhile
        name="brand.test",
        registrant="x@example.com",
        created_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=365),
    )
    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid(invoice=purchase.invoice)
    purchase.refresh_from_db()
    assert purchase.status == "failed" and "not available" in purchase.message
    assert "owed back" in purchase.message
    assert sorted(Transaction.objects.values_list("kind", "amount")) == [
        ("charge", 12),
        ("refund", 12),
    ]
    assert (
        mail.outbox[-1].subject
        == "Berth: Registration of brand.test (1 year): could not be completed"
    )


def test_renewal_in_the_browser_is_charged_first(web, alice):
    domain = register_domain(alice, "brand.test")
    expires = domain.expires_at
    answer = web.post(reverse("domains:renew", args=[domain.pk]), {"years": 2})
    renewal = Purchase.objects.get(kind="domain_renewal")
    assert answer["Location"] == reverse("billing:purchase", args=[renewal.pk])
    assert renewal.amount == Decimal("24.00") and renewal.invoice.total == Decimal("24.00")
    domain.refresh_from_db()
    assert domain.expires_at == expires
    invoice_mark_paid(invoice=renewal.invoice)
    domain.refresh_from_db()
    assert domain.expires_at == expires + timedelta(days=730)


# --- with Stripe: Checkout in payment mode, the saved card for automatic renewals --------------
def checkout_session(answer, servers) -> str:
    assert answer.status_code == 302 and answer["Location"].startswith(f"{servers.url}/pay/")
    return answer["Location"].rsplit("/", 1)[1]


def test_checkout_registers_once_however_the_webhook_comes(web, alice, online):
    team = acting_team(alice)
    session = checkout_session(order_in_browser(web, "shop.test"), online)
    purchase = Purchase.objects.get(team=team)
    assert purchase.provider == "stripe" and purchase.status == "pending"
    assert not registered("shop.test")
    intent = online.pay_checkout(session)
    deliveries = until(online, "checkout.session.completed")
    shuffled = deliveries * 3
    random.Random(7).shuffle(shuffled)
    for payload, signature in shuffled:
        assert deliver(web, payload, signature).status_code == 200
    purchase.refresh_from_db()
    assert purchase.status == "fulfilled" and registered("shop.test")
    assert Domain.objects.filter(name="shop.test").count() == 1
    charges = Transaction.objects.filter(team=team, kind="charge")
    assert [(c.amount, c.reference) for c in charges] == [
        (Decimal("12.00"), f"stripe:payment:{intent}")
    ]
    assert stripe.PaymentIntent.retrieve(intent)["amount"] == 1200
    page = web.get(reverse("billing:purchase", args=[purchase.pk]) + "?checkout=done")
    assert "registered until" in page.content.decode()


def test_abandoned_or_declined_checkout_registers_nothing(
    web, api, alice, online, django_capture_on_commit_callbacks
):
    session = checkout_session(order_in_browser(web, "shop.test"), online)
    with pytest.raises(stripe.CardError):
        online.pay_checkout(session, payment_method="pm_card_chargeCustomerFail")
    assert not registered("shop.test")
    online.expire_checkout(session)
    with django_capture_on_commit_callbacks(execute=True):
        for payload, signature in until(online, "checkout.session.expired"):
            deliver(web, payload, signature)
    purchase = Purchase.objects.get()
    order = api.get(f"/api/billing/purchases/{purchase.pk}").json()
    assert order["status"] == "canceled" and order["checkoutUrl"] is None
    assert "nothing was charged and nothing was done" in order["message"]
    assert not registered("shop.test") and not Transaction.objects.filter(kind="charge").exists()
    assert mail.outbox[-1].subject == "Berth: Registration of shop.test (1 year): not paid"


def test_a_dropped_webhook_is_settled_by_the_sweep(api, alice, online):
    answer = api.post(
        "/api/domains",
        {"name": "shop.test", "register": True, "confirmPrice": "12.00"},
        format="json",
    ).json()
    session = answer["checkoutUrl"].rsplit("/", 1)[1]
    online.pay_checkout(session, notify=False)
    assert not registered("shop.test")
    assert purchases_maintain()["settled"] == 1
    assert registered("shop.test")
    assert purchases_maintain() == {"delivered": 0, "settled": 0}
    assert Transaction.objects.filter(kind="charge").count() == 1


def test_a_cancelled_checkout_can_no_longer_be_paid(web, alice, online):
    session = checkout_session(order_in_browser(web, "shop.test"), online)
    purchase = Purchase.objects.get()
    web.post(reverse("billing:purchase-cancel", args=[purchase.pk]))
    purchase.refresh_from_db()
    assert purchase.status == "canceled"
    assert stripe.checkout.Session.retrieve(session)["status"] == "expired"


def test_automatic_renewal_charges_the_saved_card_and_retries_a_decline(
    web, alice, online, django_capture_on_commit_callbacks
):
    team = acting_team(alice)
    online.pay_checkout(checkout_session(order_in_browser(web, "shop.test"), online))
    for payload, signature in until(online, "checkout.session.completed"):
        deliver(web, payload, signature)
    domain = Domain.objects.get(name="shop.test")
    soon = timezone.now() + timedelta(days=10)
    Domain.objects.filter(pk=domain.pk).update(expires_at=soon)
    RegistryEntry.objects.filter(name="shop.test").update(expires_at=soon)
    customer = Subscription.objects.get(team=team).stripe_customer_id

    # The card is declined: nothing renewed, a failed payment in the ledger, the owners told.
    stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=customer)
    stripe.Customer.modify(
        customer, invoice_settings={"default_payment_method": "pm_card_chargeCustomerFail"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert domains.registrations_maintain()["renewed"] == 0
    renewal = Purchase.objects.get(kind="domain_renewal")
    assert renewal.status == "pending" and renewal.payment_attempts == 1
    assert "The card was declined" in renewal.message
    assert Transaction.objects.filter(kind="failed_payment").count() == 1
    assert mail.outbox[-1].subject == "Berth: Renewal of shop.test (1 year): payment failed"
    assert reverse("billing:purchase", args=[renewal.pk]) in mail.outbox[-1].body
    domains.registrations_maintain()  # the same day: not charged again
    assert Purchase.objects.get(pk=renewal.pk).payment_attempts == 1

    # A day later, with a good card again, it goes through and the domain is renewed.
    stripe.Customer.modify(customer, invoice_settings={"default_payment_method": "pm_card_visa"})
    Purchase.objects.filter(pk=renewal.pk).update(
        last_attempt_at=timezone.now() - timedelta(days=1)
    )
    assert domains.registrations_maintain()["renewed"] == 1
    domain.refresh_from_db()
    assert domain.expires_at == soon + timedelta(days=365)
    charges = Transaction.objects.filter(kind="charge").order_by("created_at")
    assert [c.amount for c in charges] == [Decimal("12.00"), Decimal("12.00")]


def test_an_unpaid_renewal_lapses_with_the_domain(
    alice, online, settings, django_capture_on_commit_callbacks
):
    domain = register_domain(alice, "free.berth")  # free: registered at once
    assert domain.is_registered
    Domain.objects.filter(pk=domain.pk).update(expires_at=timezone.now() + timedelta(days=5))
    settings.BERTH_REGISTRY_TLDS = {"test": "12.00", "berth": "3.00"}  # renewals now cost
    with django_capture_on_commit_callbacks(execute=True):
        domains.registrations_maintain()  # no card saved: the charge fails
    renewal = Purchase.objects.get(kind="domain_renewal")
    assert renewal.status == "pending" and "No card is saved" in renewal.message
    Domain.objects.filter(pk=domain.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        domains.registrations_maintain()
    renewal.refresh_from_db()
    assert renewal.status == "canceled" and "nothing was charged" in renewal.message
    assert Domain.objects.get(pk=domain.pk).registration == "expired"
    assert mail.outbox[-1].subject == "Berth: Renewal of free.berth (1 year): renewal not paid"


def test_an_ordered_registration_counts_against_the_plan(api, alice):
    team_on_plan(acting_team(alice), custom_domains=1)

    def order(name):
        return api.post(
            "/api/domains", {"name": name, "register": True, "confirmPrice": "12.00"}, format="json"
        )

    first = order("brand.test")
    assert first.status_code == 202
    refused = order("other.test")
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "PLAN_LIMIT_EXCEEDED" and error["details"]["used"] == 1
    invoice_mark_paid(invoice=Invoice.objects.get(number=first.json()["purchase"]["invoice"]))
    assert registered("brand.test")  # its own order does not count against it


def test_a_renewal_in_the_browser_goes_through_checkout(web, alice, online):
    online.pay_checkout(checkout_session(order_in_browser(web, "shop.test"), online))
    for payload, signature in until(online, "checkout.session.completed"):
        deliver(web, payload, signature)
    domain = Domain.objects.get(name="shop.test")
    expires = domain.expires_at
    answer = web.post(reverse("domains:renew", args=[domain.pk]), {"years": 2})
    session = checkout_session(answer, online)
    domain.refresh_from_db()
    assert domain.expires_at == expires  # nothing before the payment
    online.pay_checkout(session)
    for payload, signature in until(online, "checkout.session.completed"):
        deliver(web, payload, signature)
    domain.refresh_from_db()
    assert domain.expires_at == expires + timedelta(days=730)
    renewal = Purchase.objects.get(kind="domain_renewal")
    assert renewal.status == "fulfilled" and renewal.amount == Decimal("24.00")
    assert Transaction.objects.filter(kind="charge").count() == 2
