"""Stripe's webhook deliveries: verified with the ``stripe`` library, stored by event id (a
redelivery counts once more) and applied by reading the object they are about from Stripe,
so duplicates, replays and any order leave the same state."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from billing import purchases
from billing.models import Invoice, StripeEvent, Subscription, Transaction
from billing.payments import (
    PaymentError,
    client,
    from_cents,
    from_timestamp,
    invoice_sync,
    stripe,
    subscription_sync,
    team_of,
)
from billing.services import transaction_record


class SignatureInvalid(Exception):
    """The payload was not signed with STRIPE_WEBHOOK_SECRET (or is not an event)."""


def stripe_event_receive(*, payload: bytes, signature: str) -> StripeEvent:
    """Verify a webhook delivery with the ``stripe`` library, store the event by its id (a
    redelivery counts once more) and apply it."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise SignatureInvalid("STRIPE_WEBHOOK_SECRET is not set.")
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise SignatureInvalid(str(exc)) from exc
    event = event.to_dict(for_json=True)
    if not event.get("id") or not event.get("type"):
        raise SignatureInvalid("Not an event.")
    row, created = StripeEvent.objects.get_or_create(
        event_id=event["id"],
        defaults={
            "type": event["type"][:80],
            "created": from_timestamp(event.get("created")) or timezone.now(),
            "payload": event,
        },
    )
    if not created:
        StripeEvent.objects.filter(pk=row.pk).update(deliveries=F("deliveries") + 1)
    stripe_event_apply(row)
    row.refresh_from_db()
    return row


def stripe_event_apply(row: StripeEvent) -> StripeEvent:
    """Apply a stored event: read the object it is about from Stripe and mirror it. Safe to
    run any number of times, in any order."""
    obj = (row.payload.get("data") or {}).get("object") or {}
    kind = row.type
    try:
        if kind.startswith("customer.subscription."):
            done = subscription_sync(obj["id"])
        elif kind.startswith("checkout.session.") and obj.get("mode") == "payment":
            done = purchases.checkout_session_apply(obj)
        elif kind == "checkout.session.completed":
            done = subscription_sync(obj["subscription"]) if obj.get("subscription") else None
        elif kind.startswith("invoice."):
            done = invoice_sync(obj["id"])
            if kind == "invoice.payment_failed":
                _failed_payment(row, obj)
            if obj.get("subscription"):
                subscription_sync(obj["subscription"])
        elif kind == "charge.refunded":
            done = _refunds(obj)
        elif kind.startswith("credit_note."):
            done = _credit_note(obj["id"])
        else:
            done = None
            outcome, message = StripeEvent.Outcome.IGNORED, "Berth does not act on this type."
        if kind.startswith(
            ("customer.subscription.", "checkout.", "invoice.", "charge.", "credit_note.")
        ):
            outcome = StripeEvent.Outcome.APPLIED if done else StripeEvent.Outcome.IGNORED
            message = f"Mirrored {done}." if done else "It names no team or plan Berth knows."
    except (stripe.StripeError, PaymentError) as exc:
        outcome, message = StripeEvent.Outcome.FAILED, f"Stripe could not be read: {exc}"
    StripeEvent.objects.filter(pk=row.pk).update(
        outcome=outcome, message=message[:500], processed_at=timezone.now()
    )
    return row


def _failed_payment(row: StripeEvent, obj) -> None:
    team = team_of(obj)
    if team is None:
        return
    invoice = Invoice.objects.filter(stripe_invoice_id=obj.get("id")).first()
    transaction_record(
        team=team,
        kind=Transaction.Kind.FAILED_PAYMENT,
        amount=from_cents(obj.get("amount_due")),
        currency=(obj.get("currency") or settings.BILLING_CURRENCY).upper(),
        description=f"Payment failed for invoice {invoice.number if invoice else obj.get('id')}",
        invoice=invoice,
        provider=Subscription.Provider.STRIPE,
        reference=f"stripe:event:{row.event_id}",
        created_at=row.created,
    )


def _refunds(obj) -> Transaction | None:
    team = team_of(obj)
    if team is None:
        return None
    last = None
    for refund in (obj.get("refunds") or {}).get("data") or []:
        last = transaction_record(
            team=team,
            kind=Transaction.Kind.REFUND,
            amount=from_cents(refund.get("amount")),
            currency=(refund.get("currency") or obj.get("currency") or "usd").upper(),
            description=f"Refund of charge {obj.get('id')}",
            provider=Subscription.Provider.STRIPE,
            reference=f"stripe:refund:{refund.get('id')}",
            created_at=from_timestamp(refund.get("created")),
        )
    return last


def _credit_note(credit_note_id: str) -> Transaction | None:
    """A credit Stripe gave a customer (a credit note, to the balance or refunded): one
    ``credit`` row in the ledger, read from Stripe as it is now."""
    remote = client().CreditNote.retrieve(credit_note_id).to_dict()
    team = team_of(remote)
    if team is None or remote.get("status") == "void":
        return None
    invoice_id = remote.get("invoice")
    invoice = Invoice.objects.filter(stripe_invoice_id=invoice_id).first() if invoice_id else None
    reason = (remote.get("reason") or "").replace("_", " ")
    return transaction_record(
        team=team,
        kind=Transaction.Kind.CREDIT,
        amount=from_cents(remote.get("total")),
        currency=(remote.get("currency") or settings.BILLING_CURRENCY).upper(),
        description=f"Credit note {remote.get('number') or credit_note_id}"
        + (f" ({reason})" if reason else ""),
        invoice=invoice,
        provider=Subscription.Provider.STRIPE,
        reference=f"stripe:credit_note:{credit_note_id}",
        created_at=from_timestamp(remote.get("created")),
    )
