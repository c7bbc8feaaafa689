"""Stripe on loopback for the billing tests: localstripe and the test front, started once a
module, configured for Berth per test."""

from __future__ import annotations

import secrets

import pytest
import stripe

from billing import payments
from billing.models import Plan
from billing.services import plans_seed
from billing.tests.stripe_servers import API_KEY, WEBHOOK_SECRET, StripeServers


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    running = StripeServers(tmp_path_factory.mktemp("localstripe"))
    yield running
    running.stop()


@pytest.fixture
def online(settings, servers):
    settings.STRIPE_SECRET_KEY = API_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = servers.url
    payments.client()
    plans_seed()
    price = stripe.Plan.create(
        id=f"price_standard_{secrets.token_hex(4)}",
        amount=1900,
        currency="usd",
        interval="month",
        product={"name": "Standard"},
    )
    Plan.objects.filter(key="standard").update(stripe_price_monthly=price.id)
    servers.take_deliveries(0)
    return servers
