"""Owners are told by email before a limit bites (80%) and when it does (100%), once each;
a plan that says so takes a site over its monthly bandwidth offline, and an upgrade brings it
back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import Plan, UsageNotice
from billing.services import usage_enforce
from billing.tests.factories import team_on_plan
from billing.tests.test_limits import used_minutes
from deployments.services import deployment_publish
from deployments.tests.factories import files
from hosting.models import Site, SiteBandwidth
from hosting.services import site_create
from teams.services import acting_team

pytestmark = pytest.mark.django_db
GB = 1024**3


def test_build_minutes_warned_at_80_and_100_percent_once(alice, django_capture_on_commit_callbacks):
    team = acting_team(alice)
    team_on_plan(team, build_minutes=10)
    site = site_create(owner=alice, name="Built")
    used_minutes(team, 8, site=site)
    with django_capture_on_commit_callbacks(execute=True):
        usage_enforce()
        usage_enforce()  # an hour later: nothing new to say
    assert [m.subject for m in mail.outbox] == [f"Berth: build minutes 80% used for {team.name}"]
    assert "At 100%, new builds are refused" in mail.outbox[0].body
    assert mail.outbox[0].to == ["alice@example.com"]
    used_minutes(team, 2, site=site)
    with django_capture_on_commit_callbacks(execute=True):
        usage_enforce()
    assert mail.outbox[-1].subject == f"Berth: build minutes used up for {team.name}"
    assert UsageNotice.objects.count() == 2


def test_bandwidth_over_the_plan_takes_the_site_offline_until_upgraded(
    alice, django_capture_on_commit_callbacks
):
    team = acting_team(alice)
    team_on_plan(team, bandwidth_gb=1, bandwidth_overage=Plan.Overage.OFFLINE)
    site = site_create(owner=alice, name="Popular")
    deployment_publish(site=site, files=files({"index.html": b"hi"}), source="upload")
    today = timezone.localdate()
    row = SiteBandwidth.objects.create(site=site, day=today, bytes_sent=int(0.85 * GB))
    with django_capture_on_commit_callbacks(execute=True):
        usage_enforce()
    assert mail.outbox[-1].subject == f"Berth: Popular: bandwidth 80% used for {team.name}"
    assert "At 100%, the site is taken offline" in mail.outbox[-1].body
    site.refresh_from_db()
    assert site.status == Site.Status.ONLINE

    SiteBandwidth.objects.filter(pk=row.pk).update(bytes_sent=int(1.1 * GB))
    with django_capture_on_commit_callbacks(execute=True):
        usage_enforce()
    site.refresh_from_db()
    assert site.status == Site.Status.OFFLINE
    assert mail.outbox[-1].subject == f"Berth: Popular: bandwidth used up for {team.name}"

    team_on_plan(team, bandwidth_gb=5, bandwidth_overage=Plan.Overage.OFFLINE)  # upgraded
    usage_enforce()
    site.refresh_from_db()
    assert site.status == Site.Status.ONLINE
    assert UsageNotice.objects.get(level=100).restored_at is not None


def test_a_plan_that_only_notifies_keeps_serving(alice, django_capture_on_commit_callbacks):
    team = acting_team(alice)
    team_on_plan(team, bandwidth_gb=1)
    site = site_create(owner=alice, name="Busy")
    SiteBandwidth.objects.create(site=site, day=timezone.localdate(), bytes_sent=2 * GB)
    with django_capture_on_commit_callbacks(execute=True):
        usage_enforce()
    site.refresh_from_db()
    assert site.status != Site.Status.OFFLINE
    assert "The site keeps serving" in mail.outbox[-1].body


def test_bandwidth_over_a_throttling_plan_slows_the_site_until_next_month(
    alice, django_capture_on_commit_callbacks
):
    team = acting_team(alice)
    team_on_plan(team, bandwidth_gb=1, bandwidth_overage=Plan.Overage.THROTTLE, throttle_kbps=32)
    site = site_create(owner=alice, name="Popular")
    deployment_publish(site=site, files=files({"index.html": b"hi"}), source="upload")
    row = SiteBandwidth.objects.create(
        site=site, day=timezone.localdate(), bytes_sent=int(0.85 * GB)
    )
    with django_capture_on_commit_callbacks(execute=True):
        usage_enforce()
    # Told before it happens.
    assert "At 100%, the site is slowed down to 32 KB/s per response" in mail.outbox[-1].body
    site.refresh_from_db()
    assert site.rate_limit is None

    SiteBandwidth.objects.filter(pk=row.pk).update(bytes_sent=int(1.1 * GB))
    with django_capture_on_commit_callbacks(execute=True):
        usage_enforce()
    site.refresh_from_db()
    assert site.rate_limit == 32 * 1024 and site.status == Site.Status.ONLINE
    assert mail.outbox[-1].subject == f"Berth: Popular: bandwidth used up for {team.name}"
    assert "The site is slowed down to 32 KB/s per response" in mail.outbox[-1].body

    # A new month: the site is back at full speed.
    next_month = timezone.now() + timedelta(days=32)
    usage_enforce(now=next_month)
    site.refresh_from_db()
    assert site.rate_limit is None
    assert UsageNotice.objects.get(level=100).restored_at is not None


def test_the_usage_page_counts_a_site_deployed_from_elsewhere_by_its_live_release(web, alice):
    """A site deployed by the command-line client, the API or git has no working files: its
    storage is its live deployment's size, on the billing page as on the Sites page."""
    from billing.selectors import team_usage

    site = site_create(owner=alice, name="Shipped")
    deployment_publish(site=site, files=files({"index.html": b"x" * 5000}), source="upload")
    site.refresh_from_db()
    assert site.storage_used == 0
    usage = team_usage(team=acting_team(alice))
    assert [m.storage_used for m in usage.sites] == [5000] and usage.storage_used == 5000
