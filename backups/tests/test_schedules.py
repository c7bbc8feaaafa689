"""Schedules: a site's daily or weekly backup is queued when its time comes (time moved in the
test), once, and the next time moves on; the Backups tab sets and removes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backups import services
from backups.models import Backup, Schedule
from backups.tests.conftest import site_with_files

pytestmark = pytest.mark.services


def test_next_occurrence_daily_and_weekly():
    wednesday = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    daily = services.next_occurrence(frequency="daily", hour=3, weekday=0, after=wednesday)
    assert daily == datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
    later = services.next_occurrence(frequency="daily", hour=11, weekday=0, after=wednesday)
    assert later == datetime(2026, 12, 2, 11, 0, tzinfo=UTC)
    sunday = services.next_occurrence(frequency="weekly", hour=4, weekday=6, after=wednesday)
    assert sunday == datetime(2026, 12, 6, 4, 0, tzinfo=UTC)


def test_a_due_schedule_queues_one_scheduled_backup_and_moves_on(db, alice):
    site = site_with_files(alice)
    schedule = services.schedule_set(site=site, frequency="daily", hour=3)
    due = schedule.next_run_at

    assert services.schedules_run(now=due - timedelta(minutes=1)) == []
    (backup,) = services.schedules_run(now=due + timedelta(minutes=2))
    assert backup.type == Backup.Type.SCHEDULED and backup.state == Backup.State.QUEUED
    assert backup.task_id
    schedule.refresh_from_db()
    assert schedule.next_run_at == due + timedelta(days=1)
    assert services.schedules_run(now=due + timedelta(minutes=7)) == []  # not twice
    assert Backup.objects.filter(site=site).count() == 1


def test_the_tab_sets_and_removes_the_schedule(web, alice):
    site = site_with_files(alice)
    answer = web.post(
        f"/sites/{site.pk}/backups/schedule/",
        {"frequency": "weekly", "hour": "4", "weekday": "6"},
        follow=True,
    )
    schedule = Schedule.objects.get(site=site)
    assert (schedule.frequency, schedule.hour, schedule.weekday) == ("weekly", 4, 6)
    assert schedule.next_run_at.weekday() == 6 and schedule.next_run_at.hour == 4
    assert "Backed up weekly at 04:00 UTC" in answer.content.decode()

    web.post(
        f"/sites/{site.pk}/backups/schedule/", {"frequency": "off", "hour": "0", "weekday": "0"}
    )
    assert not Schedule.objects.filter(site=site).exists()
    answer = web.post(
        f"/sites/{site.pk}/backups/schedule/", {"frequency": "hourly", "hour": "0", "weekday": "0"}
    )
    assert not Schedule.objects.filter(site=site).exists()


def test_another_teams_schedule_is_not_found(client, alice, bob):
    site = site_with_files(alice)
    client.force_login(bob)
    answer = client.post(
        f"/sites/{site.pk}/backups/schedule/", {"frequency": "daily", "hour": "3", "weekday": "0"}
    )
    assert answer.status_code == 404
    assert not Schedule.objects.exists()


def test_the_api_sets_reads_and_removes_the_schedule(db, alice, api, bob):
    from conftest import bearer_client

    site = site_with_files(alice)
    url = f"/api/sites/{site.pk}/backups/schedule"
    assert api.get(url).json() == {
        "frequency": "off",
        "hour": 3,
        "weekday": 0,
        "keepLast": 7,
        "keepDaily": 7,
        "keepWeekly": 4,
        "keepMonthly": 6,
        "nextRunAt": None,
    }
    answer = api.put(url, {"frequency": "weekly", "hour": 4, "weekday": 6}, format="json")
    assert answer.status_code == 200, answer.content
    body = api.get(url).json()
    assert (body["frequency"], body["hour"], body["weekday"]) == ("weekly", 4, 6)
    assert datetime.fromisoformat(body["nextRunAt"]).weekday() == 6
    bad = api.put(url, {"frequency": "weekly", "hour": 24}, format="json")
    assert bad.status_code == 422 and bad.json()["error"]["details"]["hour"]
    assert bearer_client(bob).put(url, {"frequency": "off"}, format="json").status_code == 404
    assert api.put(url, {"frequency": "off"}, format="json").status_code == 200
    assert not Schedule.objects.filter(site=site).exists()
