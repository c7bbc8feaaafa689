"""Billing without Stripe: free plans apply at once, operators assign paid plans (an invoice
in sequence), mark them paid (a ledger row), invoices download as PDF, the ledger lists,
filters and exports; the Cloud Haven client's endpoints in their shapes; who may see what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Invoice, Plan, Subscription, Transaction
from billing.services import invoice_issue, plans_seed, subscription_assign
from conftest import bearer_client, make_user
from teams.models import Membership, Role
from teams.services import acting_team, team_create, team_switch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plans(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.BILLING_BUSINESS_NAME = "Harbour Hosting Ltd"
    settings.BILLING_BUSINESS_ADDRESS = "1 Quay Street|Portsmouth"
    plans_seed()


def standard() -> Plan:
    return Plan.objects.get(key="standard")


def test_the_three_plans_come_from_settings_with_limits(api):
    plans = api.get("/api/billing/plans").json()["plans"]
    assert [p["id"] for p in plans] == ["free", "standard", "enterprise"]
    free = plans[0]
    assert free["current"] is True and free["priceMonthly"] == 0
    assert free["limits"]["storagePerSiteMb"] == 1024 and free["limits"]["bandwidthGb"] == 100
    assert plans[2]["limits"]["sites"] is None  # unlimited
    assert plans[1]["priceMonthly"] == 19.0 and plans[1]["currency"] == "USD"
    assert (free["bandwidthOverage"], free["throttleKbps"]) == ("notify", 64)


def test_operator_assigns_a_paid_plan_then_marks_the_invoice_paid(client, alice, operator):
    team = acting_team(alice)
    client.force_login(operator)
    response = client.post(
        "/admin/billing/subscription/add/",
        {"team": team.pk, "plan": standard().pk, "interval": "month"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = Subscription.objects.get(team=team)
    assert subscription.plan.key == "standard" and subscription.status == "active"
    invoice = Invoice.objects.get(team=team)
    assert invoice.status == "open" and invoice.total == Decimal("19.00")
    assert invoice.number == "INV-000001"
    assert [line.description for line in invoice.lines.all()] == ["Standard plan (monthly)"]
    assert not Transaction.objects.exists()

    client.post(
        "/admin/billing/invoice/",
        {"action": "mark_paid", "_selected_action": [invoice.pk]},
    )
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.paid_at
    charge = Transaction.objects.get()
    assert (charge.kind, charge.amount, charge.invoice) == ("charge", Decimal("19.00"), invoice)
    assert charge.recorded_by == operator
    # Paid twice is refused: the ledger keeps one row.
    client.post(
        "/admin/billing/invoice/", {"action": "mark_paid", "_selected_action": [invoice.pk]}
    )
    assert Transaction.objects.count() == 1


def test_invoices_are_numbered_in_sequence(alice, bob):
    first = subscription_assign(team=acting_team(alice), plan=standard())
    second = subscription_assign(team=acting_team(bob), plan=standard())
    numbers = list(Invoice.objects.order_by("number").values_list("number", flat=True))
    assert numbers == ["INV-000001", "INV-000002"]
    assert first.team != second.team


def test_invoice_pdf_downloads_with_the_business_details(web, alice):
    subscription_assign(team=acting_team(alice), plan=standard())
    invoice = Invoice.objects.get()
    response = web.get(reverse("billing:invoice-pdf", args=[invoice.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    body = response.content
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    for text in (b"Harbour Hosting Ltd", b"1 Quay Street", b"INV-000001", b"19.00 USD"):
        assert text in body
    page = web.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert "Harbour Hosting Ltd" in page and "Standard plan (monthly)" in page


def test_billing_page_without_stripe(web, alice):
    subscription_assign(team=acting_team(alice), plan=standard())
    page = web.get("/billing/").content.decode()
    assert "Online payment is not configured on this server" in page
    assert 'data-current-plan="standard"' in page
    assert "INV-000001" in page
    assert 'data-meter="sites"' in page and 'data-meter="build_minutes"' in page
    assert "Ask the operator to move the team to this plan." in page  # enterprise: paid


def test_choosing_the_free_plan_applies_at_once_after_confirmation(web, alice):
    team = acting_team(alice)
    subscription_assign(team=team, plan=standard())
    confirm = web.get("/billing/subscribe/?plan=free").content.decode()
    assert "Confirm: switch to Free" in confirm
    assert Subscription.objects.get(team=team).plan.key == "standard"  # a GET changes nothing
    web.post("/billing/subscribe/", {"plan": "free"})
    assert Subscription.objects.get(team=team).plan.key == "free"


def test_api_subscribe_free_and_paid_without_stripe(api, alice):
    response = api.post("/api/billing/subscribe", {"plan": "free"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["subscription"]["plan"] == "free"
    paid = api.post("/api/billing/subscribe", {"plan": "standard"}, format="json")
    assert paid.status_code == 409
    assert paid.json()["error"]["code"] == "PAYMENT_NOT_CONFIGURED"
    unknown = api.post("/api/billing/subscribe", {"plan": "gold"}, format="json")
    assert unknown.status_code == 404
    portal = api.post("/api/billing/portal")
    assert portal.status_code == 409


def test_api_invoices_subscription_and_usage_shapes(api, alice):
    team = acting_team(alice)
    subscription_assign(team=team, plan=standard(), interval="year")
    invoices = api.get("/api/billing/invoices").json()
    assert invoices["pagination"]["totalItems"] == 1
    invoice = invoices["invoices"][0]
    assert invoice["number"] == "INV-000001" and invoice["status"] == "open"
    assert (
        invoice["total"] == 190.0 and invoice["amount"] == 190.0 and invoice["plan"] == "standard"
    )
    assert invoice["pdfUrl"].endswith(f"/billing/invoices/{invoice['id']}/pdf")
    assert invoice["lines"][0]["description"] == "Standard plan (yearly)"
    body = api.get("/api/billing/subscription").json()
    assert body["plan"] == "standard" and body["onlinePayment"] is False
    assert body["subscription"]["interval"] == "year"
    usage = api.get("/api/billing/usage").json()
    assert usage["plan"] == "standard"
    assert usage["usage"]["sites"] == {"used": 0, "limit": 100}
    assert usage["usage"]["members"] == {"used": 1, "limit": 25}


def test_billing_is_for_owners_and_admins_and_paying_for_owners(alice, bob, charlie):
    team = team_create(owner=alice, name="Agency")
    Membership.objects.create(team=team, user=bob, role=Role.ADMIN)
    Membership.objects.create(team=team, user=charlie, role=Role.DEVELOPER)
    for user in (bob, charlie):
        team_switch(user=user, team=team)
    invoice = invoice_issue(team=team, lines=[("Setup", 1, Decimal("5"))], currency="USD")
    admin, developer = bearer_client(bob), bearer_client(charlie)
    assert admin.get("/api/billing/invoices").status_code == 200
    assert admin.post("/api/billing/subscribe", {"plan": "free"}, format="json").status_code == 403
    assert developer.get("/api/billing/invoices").status_code == 403
    outsider = bearer_client(make_user("dave@example.com", "Dave"))
    assert outsider.get(f"/api/billing/invoices?team={team.pk}").status_code == 404
    from django.test import Client

    browser = Client()
    browser.force_login(make_user("erin@example.com", "Erin"))
    assert browser.get(reverse("billing:invoice-pdf", args=[invoice.pk])).status_code == 404


def test_admin_transactions_api_and_csv_export(client, alice, bob, operator):
    subscription_assign(team=acting_team(alice), plan=standard())
    subscription_assign(team=acting_team(bob), plan=standard(), interval="year")
    from billing.services import invoice_mark_paid

    for invoice in Invoice.objects.all():
        invoice_mark_paid(invoice=invoice, actor=operator)
    staff = bearer_client(operator)
    rows = staff.get("/api/admin/transactions").json()
    assert rows["pagination"]["totalItems"] == 2
    assert {r["amount"] for r in rows["transactions"]} == {19.0, 190.0}
    assert rows["transactions"][0]["type"] == "charge"
    mine = staff.get(f"/api/admin/transactions?team={acting_team(bob).pk}").json()
    assert [r["amount"] for r in mine["transactions"]] == [190.0]
    assert staff.get("/api/admin/transactions?type=refund").json()["transactions"] == []
    assert bearer_client(alice).get("/api/admin/transactions").status_code == 403

    client.force_login(operator)
    export = client.post(
        "/admin/billing/transaction/",
        {
            "action": "export_csv",
            "_selected_action": list(Transaction.objects.values_list("pk", flat=True)),
        },
    )
    csv_text = b"".join(export.streaming_content).decode()
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("date,team,type,amount,currency")
    assert len(lines) == 3 and ",charge,19.00,USD," in csv_text


def test_operator_edits_a_plan_and_its_sites_follow(client, alice, operator):
    from hosting.services import site_create

    site = site_create(owner=alice, name="One")
    free = Plan.objects.get(key="free")
    client.force_login(operator)
    form = client.get(f"/admin/billing/plan/{free.pk}/change/").context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(storage_per_site_mb=2048, bandwidth_gb=50)
    response = client.post(f"/admin/billing/plan/{free.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    site.refresh_from_db()
    assert (site.storage_limit, site.bandwidth_limit) == (2048 * 1024**2, 50 * 1024**3)
