"""The public status page, its badge and subscriptions; the operators' page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils.html import strip_tags

from monitoring.checks import Outcome
from monitoring.models import Incident, Service, Subscriber
from monitoring.services import check_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(db):
    up = Service.objects.create(slug="api", name="API Gateway", kind=Service.Kind.PANEL)
    down = Service.objects.create(slug="cdn", name="CDN", kind=Service.Kind.HTTP)
    check_record(service=up, outcome=Outcome("operational", 30, ""))
    check_record(service=down, outcome=Outcome("down", None, "answered 502, expected 200"))
    return up, down


def test_the_status_page_is_public_and_tells_the_truth(services):
    page = Client().get("/status")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Some systems are down" in html
    assert "API Gateway" in html and "answered 502, expected 200" in html
    assert html.count('class="bar bar-') == 2 * 90
    assert html.count("bar bar-ok") == 1 and html.count("bar bar-down") == 1
    assert "<script>" not in html  # the CSP allows no inline scripts
    assert 'data-status-stream="/api/status/stream"' in html


def test_a_badge_per_service(services):
    badge = Client().get("/status/badge/cdn.svg")
    assert badge.status_code == 200 and badge["Content-Type"] == "image/svg+xml"
    assert b"CDN: down" in badge.content
    assert Client().get("/status/badge/nope.svg").status_code == 404


def test_subscription_is_double_opt_in_with_an_unsubscribe_link(services):
    client = Client()
    client.post("/status/subscribe", {"email": "reader@example.com"})
    subscriber = Subscriber.objects.get()
    assert subscriber.confirmed_at is None
    link = re.search(r"http://\S+/status/subscribe/\S+", mail.outbox[0].body).group(0)
    assert client.get(link.split("8000", 1)[-1]).status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.confirmed_at is not None
    unsubscribe = f"/status/unsubscribe/{subscriber.token}"
    assert client.get(unsubscribe).status_code == 200  # a button, for mail scanners' sake
    assert Subscriber.objects.exists()
    client.post(unsubscribe)
    assert not Subscriber.objects.exists()


def test_operations_page_is_for_operators(services, operator, alice):
    client = Client()
    assert client.get("/operations/").status_code == 302  # to the sign-in page
    client.force_login(alice)
    assert client.get("/operations/").status_code == 403
    assert client.post("/operations/incidents", {"title": "x"}).status_code == 403
    assert not Incident.objects.exists()
    client.force_login(operator)
    page = client.get("/operations/")
    assert page.status_code == 200 and b"Supervised processes" in page.content
    # When each service was last checked reads as a time, not as a raw ISO 8601 string.
    shown = " ".join(strip_tags(page.content.decode()).split())
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", shown)
    assert 'datetime="' + services[0].last_checked_at.isoformat() in page.content.decode()


def test_an_operator_publishes_an_incident_and_its_updates(services, operator):
    up, _ = services
    client = Client()
    client.force_login(operator)
    client.post(
        "/operations/incidents",
        {
            "title": "Slow builds",
            "message": "Queue is long.",
            "state": "investigating",
            "severity": "minor",
            "services": [up.pk],
        },
    )
    incident = Incident.objects.get()
    client.post(f"/operations/incidents/{incident.pk}", {"state": "resolved", "message": "Fixed."})
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.created_by == operator
    html = Client().get("/status").content.decode()
    assert "Slow builds" in html and "Queue is long." in html and "Fixed." in html


def test_the_status_page_reads_a_fixed_number_of_queries(
    services, operator, django_assert_max_num_queries
):
    more = [
        Service.objects.create(slug=f"s{n}", name=f"Service {n}", kind=Service.Kind.TCP)
        for n in range(18)
    ]
    for service in more:
        check_record(service=service, outcome=Outcome("operational", 10, ""))
    client = Client()
    client.get("/status")  # fills the metrics cache
    with django_assert_max_num_queries(8):
        page = client.get("/status")
    assert page.content.decode().count('class="bar bar-') == 20 * 90
