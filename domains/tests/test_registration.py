"""Searching, registering and renewing names in Berth's built-in registry."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import dns.resolver
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Purchase
from billing.services import invoice_mark_paid
from domains import services
from domains.models import Domain, RegistryEntry
from domains.registrars import adapter_for
from domains.tests.factories import register_domain

pytestmark = pytest.mark.django_db


def test_search_shows_availability_and_price_per_tld(alice):
    results, suggestions = services.domain_search(query="brand")
    by_name = {r.name: r for r in results}
    assert set(by_name) == {"brand.test", "brand.berth"}
    assert by_name["brand.test"].available and by_name["brand.test"].price == Decimal("12.00")
    assert by_name["brand.berth"].price == Decimal("0.00")
    assert suggestions == []


def test_a_taken_name_gets_suggestions(alice, bob):
    register_domain(owner=bob, name="brand.test", years=1)
    results, suggestions = services.domain_search(query="brand.test")
    assert results[0].name == "brand.test" and not results[0].available
    assert results[0].reason == "taken"
    assert suggestions and all(s.available for s in suggestions)
    assert suggestions[0].name == "brandapp.test"


def test_unsold_tlds_and_reserved_names_are_not_available(alice):
    results, _ = services.domain_search(query="brand.com")
    assert not results[0].available and "does not sell" in results[0].reason
    results, _ = services.domain_search(query="nic.test")
    assert results[0].reason == "reserved"


def test_register_for_n_years_then_renew(alice):
    domain = register_domain(owner=alice, name="Brand.Test", years=2)
    assert domain.name == "brand.test" and domain.is_registered and domain.registrar == "berth"
    assert domain.dns_hosted and domain.auto_renew and domain.transfer_lock
    assert 729 <= domain.days_to_expiry <= 730
    entry = RegistryEntry.objects.get(name="brand.test")
    assert entry.registrant == alice.email and entry.nameservers == domain.nameservers
    expires = domain.expires_at
    renewal = services.domain_renew(domain=domain, years=3)
    assert renewal.status == "pending" and renewal.amount == Decimal("36.00")
    domain.refresh_from_db()
    assert domain.expires_at == expires  # not before it is paid
    invoice_mark_paid(invoice=renewal.invoice)
    domain.refresh_from_db()
    assert domain.expires_at == expires + timedelta(days=365 * 3)
    assert adapter_for("brand.test").info("brand.test").expires_at == domain.expires_at


def test_a_name_cannot_be_registered_twice(alice, bob):
    register_domain(owner=alice, name="brand.test")
    with pytest.raises(ValidationError, match="not available"):
        register_domain(owner=bob, name="brand.test")
    with pytest.raises(ValidationError):
        register_domain(owner=alice, name="brand.test", years=11)


def test_transfer_lock_and_nameservers_go_to_the_registry(alice):
    domain = register_domain(owner=alice, name="brand.test")
    services.domain_update(domain=domain, transfer_lock=False)
    assert RegistryEntry.objects.get(name="brand.test").transfer_lock is False
    services.domain_set_nameservers(
        domain=domain, nameservers=["ns1.elsewhere.net", "ns2.elsewhere.net"]
    )
    assert RegistryEntry.objects.get(name="brand.test").nameservers == [
        "ns1.elsewhere.net",
        "ns2.elsewhere.net",
    ]
    with pytest.raises(ValidationError):
        services.domain_set_nameservers(domain=domain, nameservers=["only.one.net"])


def test_registering_publishes_the_zone_and_the_delegation(alice, pdns):
    register_domain(owner=alice, name="brand.test")
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = pdns.dns_port
    assert [r.address for r in res.resolve("brand.test", "A")] == ["127.0.0.1"]
    assert [r.target.to_text() for r in res.resolve("www.brand.test", "CNAME")] == ["brand.test."]
    # The registry's own TLD zone delegates the name to Berth's nameservers.
    delegation = res.resolve("brand.test", "NS")
    assert sorted(r.target.to_text() for r in delegation) == ["ns1.berth.test.", "ns2.berth.test."]
    assert "test." in pdns.zones() and "brand.test." in pdns.zones()


def test_reminders_before_expiry_once_per_window(alice):
    domain = register_domain(owner=alice, name="brand.test")
    Domain.objects.filter(pk=domain.pk).update(
        expires_at=timezone.now() + timedelta(days=6, hours=1), auto_renew=False
    )
    assert services.registrations_maintain()["reminded"] == 1
    assert len(mail.outbox) == 1 and "brand.test expires in 6 days" in mail.outbox[0].subject
    assert "Auto-renew is off" in mail.outbox[0].body
    assert services.registrations_maintain()["reminded"] == 0  # not twice for the same window
    Domain.objects.filter(pk=domain.pk).update(expires_at=timezone.now() + timedelta(hours=12))
    assert services.registrations_maintain()["reminded"] == 1  # the 1-day reminder
    assert len(mail.outbox) == 2


def test_no_reminder_when_the_user_turned_emails_off(alice):
    alice.preferences.email_notifications = False
    alice.preferences.save()
    domain = register_domain(owner=alice, name="brand.test")
    Domain.objects.filter(pk=domain.pk).update(
        expires_at=timezone.now() + timedelta(days=3), auto_renew=False
    )
    services.registrations_maintain()
    assert mail.outbox == []


def test_auto_renew_extends_due_registrations_and_lapsed_ones_expire(alice):
    soon = register_domain(owner=alice, name="soon.test")
    lapsed = register_domain(owner=alice, name="lapsed.test")
    Domain.objects.filter(pk=soon.pk).update(expires_at=timezone.now() + timedelta(days=10))
    Domain.objects.filter(pk=lapsed.pk).update(
        expires_at=timezone.now() - timedelta(days=1), auto_renew=False
    )
    RegistryEntry.objects.filter(name="soon.test").update(
        expires_at=timezone.now() + timedelta(days=10)
    )
    counts = services.registrations_maintain()
    # Without Stripe the renewal is invoiced first and renewed once the invoice is paid.
    assert counts["renewed"] == 0 and counts["expired"] == 1
    renewal = Purchase.objects.get(subject="soon.test", kind="domain_renewal")
    assert renewal.status == "pending" and renewal.invoice.total == Decimal("12.00")
    assert services.registrations_maintain()["renewed"] == 0  # invoiced once, not again
    assert Purchase.objects.filter(subject="soon.test", kind="domain_renewal").count() == 1
    invoice_mark_paid(invoice=renewal.invoice)
    soon.refresh_from_db()
    lapsed.refresh_from_db()
    assert soon.days_to_expiry >= 370
    assert lapsed.registration == Domain.Registration.EXPIRED


def test_the_service_charges_only_the_price_the_customer_confirmed(alice, settings):
    quote = services.registration_quote(name="Brand.Test", years=3)
    assert (quote.name, quote.price, quote.renewal_price, quote.total, quote.currency) == (
        "brand.test",
        Decimal("12.00"),
        Decimal("12.00"),
        Decimal("36.00"),
        "USD",
    )
    with pytest.raises(services.PriceNotConfirmed) as unconfirmed:
        services.domain_register(owner=alice, name="brand.test", years=3, confirm_price=None)
    assert unconfirmed.value.quote == quote
    with pytest.raises(services.PriceNotConfirmed, match=r"is now 12\.00 USD a year, not 9\.99"):
        services.domain_register(owner=alice, name="brand.test", confirm_price="9.99")
    with pytest.raises(ValidationError) as invalid:
        services.domain_register(owner=alice, name="brand.test", confirm_price="twelve")
    assert "confirm_price" in invalid.value.message_dict
    assert not RegistryEntry.objects.exists() and not Domain.objects.exists()
    order = services.domain_register(
        owner=alice, name="brand.test", years=3, confirm_price=Decimal("12")
    )
    assert order.status == "pending" and order.invoice.total == Decimal("36.00")
    assert not RegistryEntry.objects.exists()  # registered only once paid
    invoice_mark_paid(invoice=order.invoice)
    assert Domain.objects.get(name="brand.test").is_registered
