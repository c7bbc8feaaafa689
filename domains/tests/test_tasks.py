"""Periodic upkeep is scheduled, and the tasks are thin and safe to run twice."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from controlpanel.celery import app
from domains import services, tasks
from domains.models import Certificate
from domains.tests.factories import make_site, register_domain

pytestmark = pytest.mark.django_db


def test_upkeep_is_on_the_beat_schedule():
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {
        "domains.tasks.domains_verify_due",
        "domains.tasks.certificates_maintain",
        "domains.tasks.registrations_maintain",
    } <= scheduled


def test_certificate_task_claims_the_order_once(alice, pebble):
    site = make_site(alice)
    domain = register_domain(owner=alice, name="brand.test", site=site)
    domain.refresh_from_db()
    cert = Certificate.objects.create(
        domain=domain, names=["brand.test"], challenge="dns-01", directory_url=pebble.directory_url
    )
    assert tasks.certificate_issue(str(cert.pk)) == "active"
    assert tasks.certificate_issue(str(cert.pk)) is None  # a second delivery finds nothing to do


def test_verify_task_and_maintain_command(alice):
    domain = services.domain_add(owner=alice, name="customer.example")
    assert tasks.domain_verify(str(domain.pk)) == "pending"  # waiting for DNS
    assert tasks.domain_verify("00000000-0000-0000-0000-000000000000") is None
    out = StringIO()
    call_command("domains_maintain", stdout=out)
    assert "certificates:" in out.getvalue() and "registrations:" in out.getvalue()
