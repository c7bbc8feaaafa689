"""Builders for the domains tests."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from billing.models import Purchase
from billing.services import invoice_mark_paid
from domains import services
from domains.models import Domain
from hosting.services import site_create


def make_site(owner, name="Blog", slug=""):
    return site_create(owner=owner, name=name, slug=slug)


def register_domain(owner, name: str, *, years: int = 1, **kwargs) -> Domain:
    """Register ``name`` as a customer does: confirming the price its registrar quotes now,
    then paying (the built-in provider's invoice, marked paid as an operator does)."""
    quote = services.registration_quote(name=name, years=years)
    purchase = services.domain_register(
        owner=owner, name=name, years=years, confirm_price=quote.price, **kwargs
    )
    if purchase.status == Purchase.Status.PENDING and purchase.invoice_id:
        invoice_mark_paid(invoice=purchase.invoice)
        purchase.refresh_from_db()
    if purchase.status != Purchase.Status.FULFILLED:
        raise ValidationError(purchase.message or f"Not registered: {purchase.status}")
    return Domain.objects.get(pk=purchase.details["domain_id"])


def pay_orders() -> list[Purchase]:
    """The operator marks the invoice of every order awaiting payment paid (the built-in
    provider): the registrations and renewals ordered are done. Returns the orders."""
    orders = list(Purchase.objects.filter(status=Purchase.Status.PENDING, invoice__isnull=False))
    for purchase in orders:
        invoice_mark_paid(invoice=purchase.invoice)
        purchase.refresh_from_db()
    return orders


def registered_through_api(api, answer) -> dict:
    """An API registration answered 202 (awaiting payment): pay it, return the domain."""
    assert answer.status_code == 202, answer.json()
    pay_orders()
    order = api.get(f"/api/billing/purchases/{answer.json()['purchase']['id']}").json()
    assert order["status"] == "fulfilled", order
    return api.get(f"/api/domains/{order['domainId']}").json()
