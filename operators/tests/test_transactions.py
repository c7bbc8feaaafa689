"""The operators' transactions page and the admin API's ledger: billing's rows, filtered, for
operators only; an integration token reads them with admin:read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.services import transaction_record
from conftest import bearer_client
from teams.services import acting_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(alice, bob):
    alices, bobs = acting_team(alice), acting_team(bob)
    transaction_record(
        team=alices, kind="charge", amount=Decimal("12.00"), currency="usd", description="Standard"
    )
    transaction_record(
        team=bobs,
        kind="failed_payment",
        amount=Decimal("9.50"),
        currency="usd",
        description="Card declined",
    )
    transaction_record(
        team=alices, kind="refund", amount=Decimal("2.00"), currency="usd", description="Goodwill"
    )
    return alices, bobs


def test_page_lists_and_filters_the_ledger(client, operator, ledger):
    _alices, bobs = ledger
    client.force_login(operator)
    html = client.get("/operations/transactions/").content.decode()
    assert "Standard" in html and "Card declined" in html and "Goodwill" in html
    html = client.get(f"/operations/transactions/?team={bobs.pk}").content.decode()
    assert "Card declined" in html and "Standard" not in html
    html = client.get("/operations/transactions/?type=refund").content.decode()
    assert "Goodwill" in html and "Standard" not in html
    html = client.get("/operations/transactions/?since=2999-01-01").content.decode()
    assert "No transactions" in html


def test_customers_are_refused(web, ledger):
    assert web.get("/operations/transactions/").status_code == 403


def test_admin_api_ledger_with_a_read_token(operator, alice, ledger):
    from rest_framework.test import APIClient

    from accounts.services import personal_token_create

    reader = APIClient()
    issued = personal_token_create(user=operator, name="books", scopes=["admin:read"])
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")
    rows = reader.get("/api/admin/transactions").json()["transactions"]
    assert [row["description"] for row in rows] == ["Goodwill", "Card declined", "Standard"]
    plain = APIClient()
    issued = personal_token_create(user=operator, name="plain")
    plain.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")
    assert plain.get("/api/admin/transactions").status_code == 403
    assert bearer_client(alice).get("/api/admin/transactions").status_code == 403
