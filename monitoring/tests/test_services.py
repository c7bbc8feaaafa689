"""Check results, rollups, retention and incidents, with time moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from deployments.models import Deployment
from deployments.tests.factories import make_site
from monitoring.checks import Outcome, run_check
from monitoring.models import (
    CheckResult,
    DailyRollup,
    HourlyRollup,
    Incident,
    Service,
    Subscriber,
)
from monitoring.selectors import status_history, uptimes
from monitoring.services import (
    check_record,
    heartbeat_record,
    incident_create,
    incident_update_add,
    rollups_prune,
    services_sync,
    subscriber_add,
    subscriber_confirm,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 15, tzinfo=UTC)


@pytest.fixture
def service(db):
    return Service.objects.create(slug="db2", name="Replica", kind=Service.Kind.TCP)


def record(service, status, ms, at):
    return check_record(service=service, outcome=Outcome(status, ms, ""), now=at)


def test_rollups_equal_the_hand_computed_figures(service):
    # 09:15, 09:45 operational (100, 300 ms); 10:05 down; 10:35 degraded (2500 ms);
    # next day 00:10 operational (50 ms).
    record(service, "operational", 100, T0)
    record(service, "operational", 300, T0 + timedelta(minutes=30))
    record(service, "down", None, T0 + timedelta(minutes=50))
    record(service, "degraded", 2500, T0 + timedelta(minutes=80))
    record(service, "operational", 50, datetime(2026, 3, 11, 0, 10, tzinfo=UTC))

    nine = HourlyRollup.objects.get(service=service, hour=T0.replace(minute=0))
    assert (nine.checks, nine.operational, nine.down, nine.degraded) == (2, 2, 0, 0)
    assert nine.response_time_avg_ms == 200 and nine.response_time_max_ms == 300
    assert nine.uptime == 100.0
    ten = HourlyRollup.objects.get(service=service, hour=T0.replace(hour=10, minute=0))
    assert (ten.checks, ten.down, ten.degraded) == (2, 1, 1)
    assert ten.uptime == 50.0 and ten.response_time_avg_ms == 2500

    day = DailyRollup.objects.get(service=service, day=T0.date())
    assert (day.checks, day.operational, day.degraded, day.down) == (4, 2, 1, 1)
    assert day.uptime == 75.0
    assert day.response_time_avg_ms == round((100 + 300 + 2500) / 3)
    next_day = DailyRollup.objects.get(service=service, day=T0.date() + timedelta(days=1))
    assert next_day.checks == 1 and next_day.uptime == 100.0
    assert HourlyRollup.objects.filter(service=service).count() == 3


def test_uptime_and_history_read_the_daily_rollups(service, now):
    today = now.date()
    for days_ago, statuses in {0: ["operational", "down"], 2: ["operational"] * 3}.items():
        for i, status in enumerate(statuses):
            at = now - timedelta(days=days_ago, minutes=i)
            record(service, status, None if status == "down" else 80, at)
    assert uptimes()[service.pk] == 80.0  # 4 of 5 checks not down
    history = status_history(days=3, service=service)
    assert [row["date"] for row in history] == [
        (today - timedelta(days=d)).isoformat() for d in (2, 1, 0)
    ]
    assert [row["uptime"] for row in history] == [100.0, None, 50.0]
    assert history[-1]["label"] == "today" and history[0]["label"] == "2 days ago"


@pytest.fixture
def now():
    # Midday today, so a few minutes back is still today.
    return timezone.now().astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def test_retention_keeps_two_days_raw_thirty_days_hourly_a_year_daily(service):
    now = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    for age in (timedelta(days=1), timedelta(days=3), timedelta(days=40), timedelta(days=400)):
        record(service, "operational", 10, now - age)
    removed = rollups_prune(now=now)
    assert removed["results"] == 3 and removed["hourly"] == 2 and removed["daily"] == 1
    assert CheckResult.objects.count() == 1
    assert HourlyRollup.objects.count() == 2
    assert DailyRollup.objects.count() == 3


def test_an_incident_opens_after_consecutive_failures_only(service, settings):
    settings.MONITORING_FAILURES_TO_OPEN = 3
    record(service, "down", None, T0)
    record(service, "down", None, T0 + timedelta(minutes=1))
    record(service, "operational", 20, T0 + timedelta(minutes=2))  # a blip: the count restarts
    record(service, "down", None, T0 + timedelta(minutes=3))
    record(service, "down", None, T0 + timedelta(minutes=4))
    assert not Incident.objects.exists()
    record(service, "down", None, T0 + timedelta(minutes=5))
    record(service, "down", None, T0 + timedelta(minutes=6))  # still the same incident
    incident = Incident.objects.get()
    assert incident.started_at == T0 + timedelta(minutes=5)
    record(service, "operational", 20, T0 + timedelta(minutes=7))
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.resolved_at == T0 + timedelta(minutes=7)


def test_degraded_is_not_a_failure_that_opens_an_incident(service, settings):
    settings.MONITORING_FAILURES_TO_OPEN = 2
    for minute in range(4):
        record(service, "degraded", 3000, T0 + timedelta(minutes=minute))
    assert not Incident.objects.exists()


def test_operators_write_incidents_with_a_timeline(service, operator):
    incident = incident_create(
        title="Slow deploys",
        message="Builds wait in the queue.",
        severity="minor",
        services=[service],
        author=operator,
    )
    incident_update_add(incident=incident, state="identified", message="A worker hung.")
    incident_update_add(incident=incident, state="resolved", message="Restarted.")
    incident.refresh_from_db()
    assert incident.state == "resolved" and incident.resolved_at
    assert list(incident.updates.values_list("state", flat=True)) == [
        "investigating",
        "identified",
        "resolved",
    ]


def test_subscribers_confirm_before_they_get_incident_emails(
    service, django_capture_on_commit_callbacks
):
    subscriber = subscriber_add(email="Reader@Example.com ")
    assert subscriber.email == "reader@example.com" and subscriber.confirmed_at is None
    [confirm] = mail.outbox
    assert f"/status/subscribe/{subscriber.token}" in confirm.body
    with django_capture_on_commit_callbacks(execute=True):
        incident_create(title="Outage", message="Down.", services=[service])
    assert len(mail.outbox) == 1  # unconfirmed: nothing sent
    subscriber_confirm(token=subscriber.token)
    with django_capture_on_commit_callbacks(execute=True):
        incident_create(title="Second outage", message="Down again.", services=[service])
    assert len(mail.outbox) == 2
    email = mail.outbox[-1]
    assert email.to == ["reader@example.com"] and "Second outage" in email.subject
    assert f"/status/unsubscribe/{subscriber.token}" in email.body
    assert email.extra_headers["List-Unsubscribe"].endswith(
        f"/status/unsubscribe/{subscriber.token}>"
    )


def test_a_bad_subscription_address_is_refused(db):
    with pytest.raises(ValidationError):
        subscriber_add(email="not an address")
    assert not Subscriber.objects.exists()


def test_configured_services_follow_the_settings(settings, db):
    settings.REDIS_URL = ""
    settings.MONITORING_CANARY_URL = ""
    slugs = [s.slug for s in services_sync()]
    assert slugs == ["panel", "database", "builds"]
    settings.REDIS_URL = "redis://127.0.0.1:6379/8"
    settings.MONITORING_CANARY_URL = "http://canary.localhost:8000/"
    assert [s.slug for s in services_sync()] == ["panel", "database", "redis", "sites", "builds"]
    settings.REDIS_URL = ""
    services_sync()
    assert not Service.objects.get(slug="redis").enabled


SAMPLE = {
    "cpu": 5.0,
    "memory": 30.0,
    "disk": 40.0,
    "load1": 0.1,
    "cpu_count": 2,
    "memory_total": 1 << 30,
    "disk_total": 10 << 30,
}


def test_the_build_service_needs_a_live_worker_and_a_moving_queue(alice, settings):
    settings.MONITORING_QUEUE_WAIT_DEGRADED = 300
    builds = Service(slug="builds", name="Build Service", kind=Service.Kind.BUILDS)
    outcome = run_check(builds)
    assert outcome.status == "down" and "heartbeat" in outcome.message
    heartbeat_record(name="worker-1", role="worker", sample=SAMPLE)
    now = timezone.now()
    site = make_site(alice, name="Queue")
    Deployment.objects.create(
        site=site,
        source="git",
        status="success",
        created_at=now - timedelta(seconds=10),
        started_at=now,
    )
    outcome = run_check(builds)
    assert outcome.status == "operational"
    assert "0 queued; queued to claimed 10.0 s" in outcome.message
    Deployment.objects.create(site=site, source="git", created_at=now - timedelta(minutes=10))
    outcome = run_check(builds)
    assert outcome.status == "degraded" and "1 queued" in outcome.message
