"""One-off purchases (domain registrations and renewals): charged first, delivered only once
paid, never twice.

``purchase_start`` takes the order: with Stripe, a Checkout session in payment mode (the
customer pays on Stripe's page); without, a built-in invoice the operator marks paid; a free
one is delivered at once. ``purchase_charge`` is the unattended path (automatic renewals):
the team's saved card with Stripe, an invoice without. When the payment is confirmed — the
Checkout webhook (or the hourly sweep reading the session from Stripe), a saved-card charge
that went through, an invoice marked paid — ``purchase_paid`` claims it once and the
deliverer its app registered for the kind (``fulfiller``) does the work. A payment abandoned,
declined or voided delivers nothing and says so; a delivery that fails after payment is
refunded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from billing import payments
from billing.models import Invoice, Purchase, Subscription, Transaction
from billing.services import CENT, invoice_issue, invoice_void, tell_owners, transaction_record
from billing.signals import invoice_paid, invoice_voided
from teams.models import Team

log = logging.getLogger(__name__)

# A purchase stuck "being delivered" this long (its process died) is tried again.
STUCK_AFTER = timedelta(minutes=15)
# An unattended charge that failed is tried again after this long.
RETRY_AFTER = timedelta(hours=20)


class FulfilmentError(Exception):
    """Delivering a paid purchase failed; ``str(exc)`` says why. ``final``: it never will
    (the purchase is refunded); otherwise it is tried again later."""

    def __init__(self, message: str, *, final: bool = True):
        super().__init__(message)
        self.final = final


Fulfiller = Callable[[Purchase], str]
FULFILLERS: dict[str, Fulfiller] = {}


def fulfiller(kind: str) -> Callable[[Fulfiller], Fulfiller]:
    """Register the function that delivers purchases of ``kind`` once they are paid; it
    returns what to tell the customer and raises ``FulfilmentError``. It must be safe to run
    again after a crash (it finds what it already did)."""

    def register(func: Fulfiller) -> Fulfiller:
        FULFILLERS[kind] = func
        return func

    return register


def purchase_url(purchase: Purchase) -> str:
    return settings.PANEL_URL + reverse("billing:purchase", args=[purchase.pk])


# --- taking the order -----------------------------------------------------------------------------
def purchase_start(
    *,
    team: Team,
    kind: str,
    subject: str,
    description: str,
    amount: Decimal,
    currency: str,
    details: dict,
    buyer=None,
    unattended: bool = False,
) -> Purchase:
    """Order something for ``team`` and ask for the payment.

    Interactive (default): with Stripe a Checkout session whose URL is ``checkout_url``;
    without, a built-in invoice. ``unattended`` (an automatic renewal): nothing is asked yet,
    ``purchase_charge`` collects it. A free purchase is delivered at once. Another open
    purchase of the same thing is refused (one payment for one thing)."""
    if kind not in Purchase.Kind.values:
        raise ValueError(f"Unknown purchase kind {kind!r}")
    amount = Decimal(amount).quantize(CENT)
    purchase = Purchase(
        team=team,
        kind=kind,
        subject=subject,
        description=description[:300],
        amount=amount,
        currency=currency.upper(),
        details=details,
        buyer=buyer,
    )
    purchase.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            purchase.save(force_insert=True)
            if amount > 0 and not unattended:
                _ask_for_payment(purchase)
    except IntegrityError:
        raise ValidationError(
            f"{subject} is already being paid for: finish or cancel that order (on the billing "
            "page), or choose another name."
        ) from None
    if amount <= 0:
        return purchase_paid(purchase=purchase)
    return purchase


def _ask_for_payment(purchase: Purchase) -> None:
    if settings.STRIPE_SECRET_KEY:
        session = payments.checkout_payment_start(
            team=purchase.team,
            purchase_id=str(purchase.pk),
            description=purchase.description,
            amount=purchase.amount,
            currency=purchase.currency,
            return_url=purchase_url(purchase),
        )
        purchase.provider = Subscription.Provider.STRIPE
        purchase.stripe_checkout_session_id = session["id"]
        purchase.checkout_url = session["url"]
    else:
        purchase.invoice = invoice_issue(
            team=purchase.team,
            lines=[(purchase.description, 1, purchase.amount)],
            currency=purchase.currency,
        )
        purchase.provider = Subscription.Provider.BUILTIN
    purchase.save(
        update_fields=[
            "provider",
            "stripe_checkout_session_id",
            "checkout_url",
            "invoice",
            "updated_at",
        ]
    )


def purchase_checkout(*, purchase: Purchase) -> Purchase:
    """The customer pays an open purchase now (an unattended charge that failed, say): a new
    Checkout session with Stripe; without, the invoice it already has (issued if missing)."""
    if purchase.status != Purchase.Status.PENDING:
        raise ValidationError(f"This order is {purchase.get_status_display().lower()}.")
    if settings.STRIPE_SECRET_KEY and purchase.stripe_checkout_session_id:
        state = payments.checkout_session_state(purchase.stripe_checkout_session_id)
        if state["status"] == "open":
            return purchase
        if state["paid"]:
            return purchase_paid(purchase=purchase, payment_intent=state["payment_intent"])
    if purchase.invoice_id and not settings.STRIPE_SECRET_KEY:
        return purchase
    _ask_for_payment(purchase)
    return purchase


def purchase_charge(*, purchase: Purchase, now=None) -> Purchase:
    """Collect an unattended purchase (an automatic renewal). With Stripe: charge the team's
    saved card; a decline is a failed payment in the ledger, the owners are emailed with a
    link to pay by hand, and it is tried again after ``RETRY_AFTER``. Without Stripe: an
    invoice is issued once and the owners are told."""
    now = now or timezone.now()
    if purchase.status != Purchase.Status.PENDING:
        return purchase
    if not settings.STRIPE_SECRET_KEY:
        if purchase.invoice_id is None:
            _ask_for_payment(purchase)
            _tell(purchase, "invoice issued", {"invoice": purchase.invoice})
        return purchase
    if purchase.last_attempt_at and now - purchase.last_attempt_at < RETRY_AFTER:
        return purchase
    claimed = Purchase.objects.filter(
        pk=purchase.pk, status=Purchase.Status.PENDING, payment_attempts=purchase.payment_attempts
    ).update(payment_attempts=purchase.payment_attempts + 1, last_attempt_at=now)
    if not claimed:
        purchase.refresh_from_db()
        return purchase
    purchase.refresh_from_db()
    try:
        intent = payments.charge_saved_card(
            team=purchase.team,
            amount=purchase.amount,
            currency=purchase.currency,
            metadata={"purchase_id": str(purchase.pk), "team_id": str(purchase.team_id)},
        )
    except payments.PaymentDeclined as exc:
        reason = str(exc)
        transaction_record(
            team=purchase.team,
            kind=Transaction.Kind.FAILED_PAYMENT,
            amount=purchase.amount,
            currency=purchase.currency,
            description=f"Payment failed: {purchase.description} ({reason})",
            provider=Subscription.Provider.STRIPE,
            reference=f"purchase:{purchase.pk}:attempt:{purchase.payment_attempts}",
        )
        message = f"The payment failed: {reason} It is tried again tomorrow; or pay it now."
        Purchase.objects.filter(pk=purchase.pk).update(message=message[:500])
        purchase.refresh_from_db()
        _tell(purchase, "payment failed", {"reason": reason})
        return purchase
    return purchase_paid(purchase=purchase, payment_intent=intent)


# --- payment confirmed, delivery ----------------------------------------------------------------
def purchase_paid(*, purchase: Purchase, payment_intent: str = "") -> Purchase:
    """The payment for ``purchase`` is confirmed (any number of times, in any order): claim
    it once, put the charge in the ledger (Stripe's; an invoice's charge is recorded when it
    is marked paid) and deliver it."""
    with transaction.atomic():
        claimed = Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
            status=Purchase.Status.PAID,
            paid_at=timezone.now(),
            stripe_payment_intent_id=payment_intent,
            message="",
        )
        purchase.refresh_from_db()
        if claimed and payment_intent:
            transaction_record(
                team=purchase.team,
                kind=Transaction.Kind.CHARGE,
                amount=purchase.amount,
                currency=purchase.currency,
                description=purchase.description,
                provider=Subscription.Provider.STRIPE,
                reference=f"stripe:payment:{payment_intent}",
            )
    if purchase.status == Purchase.Status.PAID:
        return purchase_fulfil(purchase=purchase)
    return purchase


def purchase_fulfil(*, purchase: Purchase) -> Purchase:
    """Deliver a paid purchase once (claimed paid -> being delivered). A final failure ends
    it "failed", refunds the payment and tells the owners; a passing one leaves it paid for
    the sweep to try again."""
    claimed = Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PAID).update(
        status=Purchase.Status.FULFILLING, updated_at=timezone.now()
    )
    purchase.refresh_from_db()
    if not claimed:
        return purchase
    deliver = FULFILLERS[purchase.kind]
    try:
        message = deliver(purchase)
    except FulfilmentError as exc:
        if not exc.final:
            Purchase.objects.filter(pk=purchase.pk).update(
                status=Purchase.Status.PAID, message=f"{exc} Tried again shortly."[:500]
            )
            purchase.refresh_from_db()
            return purchase
        refund = _refund(purchase, str(exc))
        Purchase.objects.filter(pk=purchase.pk).update(
            status=Purchase.Status.FAILED,
            message=f"{exc} {refund}"[:500],
            finished_at=timezone.now(),
            details=purchase.details,
        )
        purchase.refresh_from_db()
        _tell(purchase, "could not be completed", {"reason": str(exc), "refund": refund})
        return purchase
    Purchase.objects.filter(pk=purchase.pk).update(
        status=Purchase.Status.FULFILLED,
        message=message[:500],
        finished_at=timezone.now(),
        details=purchase.details,
    )
    purchase.refresh_from_db()
    return purchase


def _refund(purchase: Purchase, reason: str) -> str:
    """Give the money back; returns what was done, in words."""
    if purchase.amount <= 0:
        return ""
    if purchase.stripe_payment_intent_id:
        try:
            refund = payments.refund_payment(purchase.stripe_payment_intent_id)
        except payments.PaymentError as exc:
            log.error("Refund of purchase %s failed: %s", purchase.pk, exc)
            return "The refund failed; the operator has been told and will refund it."
        transaction_record(
            team=purchase.team,
            kind=Transaction.Kind.REFUND,
            amount=purchase.amount,
            currency=purchase.currency,
            description=f"Refund: {purchase.description} ({reason})",
            provider=Subscription.Provider.STRIPE,
            reference=f"stripe:refund:{refund}",
        )
        return f"{purchase.amount} {purchase.currency} was refunded to the card."
    transaction_record(
        team=purchase.team,
        kind=Transaction.Kind.REFUND,
        amount=purchase.amount,
        currency=purchase.currency,
        description=f"Refund owed: {purchase.description} ({reason})",
        invoice=purchase.invoice,
        reference=f"purchase:{purchase.pk}:refund",
    )
    return f"{purchase.amount} {purchase.currency} is owed back; the operator refunds it."


# --- cancelled, abandoned -----------------------------------------------------------------------
def purchase_cancel(*, purchase: Purchase, reason: str, notice: str = "") -> Purchase:
    """End an unpaid purchase: nothing is charged, nothing delivered. A Checkout session is
    expired at Stripe first (one paid meanwhile is delivered instead); an open invoice is
    voided. ``notice``: what to email the owners (nothing when empty)."""
    if purchase.status != Purchase.Status.PENDING:
        return purchase
    if purchase.stripe_checkout_session_id:
        state = payments.checkout_session_expire(purchase.stripe_checkout_session_id)
        if state["paid"]:
            return purchase_paid(purchase=purchase, payment_intent=state["payment_intent"])
    if _canceled(purchase, reason) and notice:
        _tell(purchase, notice, {})
    if purchase.invoice_id:
        invoice = Invoice.objects.get(pk=purchase.invoice_id)
        if invoice.status == Invoice.Status.OPEN:
            invoice_void(invoice=invoice)
    purchase.refresh_from_db()
    return purchase


def _canceled(purchase: Purchase, reason: str) -> bool:
    done = Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
        status=Purchase.Status.CANCELED, message=reason[:500], finished_at=timezone.now()
    )
    purchase.refresh_from_db()
    return bool(done)


def checkout_session_apply(session: dict) -> Purchase | None:
    """A Checkout session in payment mode changed (webhook): read it from Stripe now and act
    on what it says — paid: deliver; expired: nothing was charged, nothing delivered."""
    purchase = Purchase.objects.filter(stripe_checkout_session_id=session.get("id")).first()
    if purchase is None:
        return None
    state = payments.checkout_session_state(purchase.stripe_checkout_session_id)
    if state["paid"]:
        return purchase_paid(purchase=purchase, payment_intent=state["payment_intent"])
    if state["status"] == "expired" and _canceled(
        purchase, "The payment was not completed: nothing was charged and nothing was done."
    ):
        _tell(purchase, "not paid", {})
    return purchase


# --- the sweep ---------------------------------------------------------------------------------
def purchases_maintain(*, now=None) -> dict:
    """Hourly: deliver purchases paid but not delivered (a process died, a registrar was
    down), and settle open Checkout sessions from Stripe (a dropped webhook)."""
    now = now or timezone.now()
    counts = {"delivered": 0, "settled": 0}
    Purchase.objects.filter(
        status=Purchase.Status.FULFILLING, updated_at__lt=now - STUCK_AFTER
    ).update(status=Purchase.Status.PAID)
    for purchase in Purchase.objects.filter(status=Purchase.Status.PAID):
        if purchase_fulfil(purchase=purchase).status == Purchase.Status.FULFILLED:
            counts["delivered"] += 1
    if settings.STRIPE_SECRET_KEY:
        pending = Purchase.objects.filter(
            status=Purchase.Status.PENDING, stripe_checkout_session_id__isnull=False
        )
        for purchase in pending:
            try:
                after = checkout_session_apply({"id": purchase.stripe_checkout_session_id})
            except payments.PaymentError:
                log.warning("Could not read Checkout session of purchase %s", purchase.pk)
                continue
            if after is not None and after.status != Purchase.Status.PENDING:
                counts["settled"] += 1
    return counts


# --- invoices of the built-in provider --------------------------------------------------------
@receiver(invoice_paid)
def _invoice_paid(sender, invoice: Invoice, **kwargs) -> None:
    for purchase in Purchase.objects.filter(invoice=invoice, status=Purchase.Status.PENDING):
        purchase_paid(purchase=purchase)


@receiver(invoice_voided)
def _invoice_voided(sender, invoice: Invoice, **kwargs) -> None:
    for purchase in Purchase.objects.filter(invoice=invoice, status=Purchase.Status.PENDING):
        if _canceled(purchase, f"Invoice {invoice.number} was voided: nothing was done."):
            _tell(purchase, "cancelled", {})


def _tell(purchase: Purchase, what: str, context: dict) -> None:
    tell_owners(
        purchase.team,
        f"{purchase.description}: {what}",
        "billing/email/purchase.txt",
        {"purchase": purchase, "what": what, "url": purchase_url(purchase), **context},
    )
