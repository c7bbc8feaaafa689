"""Retention: snapshots older than the plan's backup retention are forgotten and pruned after
a backup, and their rows go with them; unlimited retention keeps everything."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from backups import restic, services
from backups.models import Backup
from backups.retention import forget_args
from backups.tests.conftest import site_with_files
from billing.tests.factories import team_on_plan

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _old_backup(site, when: str = "2020-01-01 00:00:00") -> Backup:
    """A backup of the site whose snapshot was taken at ``when`` (restic's --time)."""
    repo = services.repository_for(site.team)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "index.html").write_text("<h1>2020</h1>")
        restic.run(
            repo.location,
            repo.password,
            "backup",
            "--tag",
            f"site:{site.pk}",
            "--time",
            when,
            folder,
        )
    (old,) = restic.snapshot_ids(repo.location, repo.password, tag=f"site:{site.pk}") - set(
        Backup.objects.values_list("snapshot_id", flat=True)
    )
    return Backup.objects.create(site=site, state=Backup.State.SUCCEEDED, snapshot_id=old)


def test_snapshots_older_than_the_plans_retention_are_forgotten(db, alice):
    site = site_with_files(alice)
    team_on_plan(site.team, "week", backup_retention_days=7)
    first = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert first.state == Backup.State.SUCCEEDED, first.reason
    old = _old_backup(site)

    second = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert second.state == Backup.State.SUCCEEDED, second.reason

    assert not Backup.objects.filter(pk=old.pk).exists()
    repo = services.repository_for(site.team)
    kept = restic.snapshot_ids(repo.location, repo.password, tag=f"site:{site.pk}")
    assert kept == {first.snapshot_id, second.snapshot_id}
    assert old.snapshot_id not in kept


def test_unlimited_retention_keeps_every_snapshot(db, alice):
    site = site_with_files(alice)
    team_on_plan(site.team, "forever")  # every limit unlimited
    services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    old = _old_backup(site)
    done = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert done.state == Backup.State.SUCCEEDED, done.reason
    assert Backup.objects.filter(pk=old.pk).exists()


def test_the_schedules_rules_keep_last_daily_weekly_monthly_and_the_plan_caps_them(db, alice):
    site = site_with_files(alice)
    team_on_plan(site.team, "quarter", backup_retention_days=90)
    services.schedule_set(
        site=site, frequency="daily", keep_last=1, keep_daily=3, keep_weekly=0, keep_monthly=12
    )
    now = timezone.now()

    def at(days: float, hour: int = 12) -> str:
        return (now - timedelta(days=days)).strftime(f"%Y-%m-%d {hour:02d}:00:00")

    first = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert first.state == Backup.State.SUCCEEDED, first.reason
    same_day_early = _old_backup(site, at(1, hour=1))
    same_day_late = _old_backup(site, at(1, hour=2))  # daily keeps the day's last one
    two_days = _old_backup(site, at(2))
    last_month = _old_backup(site, at(40))  # monthly keeps it: the newest of its month
    ancient = _old_backup(site, at(400))  # monthly would keep it; the plan's 90 days do not

    newest = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert newest.state == Backup.State.SUCCEEDED, newest.reason
    kept = set(Backup.objects.filter(site=site).values_list("pk", flat=True))
    assert newest.pk in kept and same_day_late.pk in kept and two_days.pk in kept
    assert last_month.pk in kept
    assert ancient.pk not in kept  # the cap
    assert same_day_early.pk not in kept
    # today's first backup: the daily rule keeps only the day's newest, the last-1 rule the newest
    assert first.pk not in kept


def test_forget_passes_follow_the_rules():
    class Rules:
        keep_last, keep_daily, keep_weekly, keep_monthly = 3, 0, 2, 0

    assert forget_args(None, None) == []
    assert forget_args(None, 30) == [["--keep-within", "30d"]]
    assert forget_args(Rules, None) == [["--keep-last", "3", "--keep-weekly", "2"]]
    assert forget_args(Rules, 7) == [
        ["--keep-last", "3", "--keep-weekly", "2"],
        ["--keep-within", "7d"],
    ]
