"""Builders for the domains tests."""

from __future__ import annotations

from domains import services
from hosting.services import site_create


def make_site(owner, name="Blog", slug=""):
    return site_create(owner=owner, name=name, slug=slug)


def register_domain(owner, name: str, *, years: int = 1, **kwargs):
    """Register ``name`` as a customer does: confirming the price its registrar quotes now."""
    quote = services.registration_quote(name=name, years=years)
    return services.domain_register(
        owner=owner, name=name, years=years, confirm_price=quote.price, **kwargs
    )
