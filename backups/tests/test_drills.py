"""Restore drills with real restic (and real MariaDB for WordPress): a drill restores the
latest backup into a scratch folder and database, compares every checksum and row count with
the backup's record, and stamps it "verified restorable"; a damaged repository fails the
drill, which alerts the team and shows on the site's pages; drills come round by themselves."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from backups import services
from backups.models import Backup, Drill, Repository
from backups.tests.conftest import site_with_files
from backups.tests.test_wordpress import blog  # noqa: F401 - the WordPress site fixture
from wordpress import mariadb

pytestmark = [pytest.mark.services, pytest.mark.slow]


def backed_up(site) -> Backup:
    done = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert done.state == Backup.State.SUCCEEDED, done.reason
    return done


def test_a_drill_proves_the_latest_backup_restores(db, alice, web, backup_root):
    site = site_with_files(alice)
    older = backed_up(site)
    latest = backed_up(site)
    assert set(latest.record["files"]) >= {"files/index.html", "berth/manifest.json"}

    drill = services.drill_create(site=site)
    assert drill.backup == latest and drill.task_id
    assert services.drill_create(site=site) is None  # one at a time
    done = services.drill_run(drill_id=drill.pk)
    assert done.state == Drill.State.SUCCEEDED, done.reason
    assert done.files_checked == latest.files and done.tables_checked == 0
    latest.refresh_from_db()
    older.refresh_from_db()
    assert latest.restorable_at and not latest.drill_error
    assert older.restorable_at is None
    assert not list(
        Path(services.repository_for(site.team).location).parent.parent.glob(
            f"scratch/drill-{drill.pk}*"
        )
    )  # the scratch folder went

    html = web.get(f"/sites/{site.pk}/backups/").content.decode()
    assert "Verified restorable" in html and "Not drilled yet" in html
    assert "data-backup-alert" not in html
    assert not mail.outbox


def test_a_wordpress_drill_counts_the_rows_in_a_scratch_database(blog):  # noqa: F811
    backup = backed_up(blog)
    assert backup.record["tables"] == {"posts": 50}
    drill = services.drill_create(site=blog)
    done = services.drill_run(drill_id=drill.pk)
    assert done.state == Drill.State.SUCCEEDED, done.reason
    assert (done.tables_checked, done.rows_checked) == (1, 50)
    assert not mariadb.database_exists(f"wp_{drill.pk.hex[:24]}")  # scratch database dropped
    backup.refresh_from_db()
    assert backup.restorable_at


def test_a_damaged_repository_fails_the_drill_alerts_and_shows(db, alice, web):
    site = site_with_files(alice)
    backup = backed_up(site)
    repo = Repository.objects.get(team=site.team)
    for pack in Path(repo.location, "data").rglob("*"):
        if pack.is_file():
            pack.chmod(0o600)
            pack.write_bytes(b"garbage" * 10)

    done = services.drill_run(drill_id=services.drill_create(site=site).pk)
    assert done.state == Drill.State.FAILED
    assert "restic restore failed" in done.reason or "differs" in done.reason
    backup.refresh_from_db()
    assert backup.restorable_at is None and backup.drill_error == done.reason

    (sent,) = mail.outbox
    assert sent.to == ["alice@example.com"] and "restore drill of Garden failed" in sent.subject
    html = web.get(f"/sites/{site.pk}/").content.decode()
    assert "data-backup-alert" in html and "A restore drill failed" in html
    html = web.get(f"/sites/{site.pk}/backups/").content.decode()
    assert "Drill failed" in html


def test_drills_come_round_every_few_days(db, alice, bob, settings):
    settings.BACKUP_DRILL_DAYS = 7
    site = site_with_files(alice)
    backed_up(site)
    site_with_files(bob, name="Never backed up")
    (drill,) = services.drills_due()
    assert drill.site == site
    assert services.drills_due() == []  # one is queued
    services.drill_run(drill_id=drill.pk)
    assert services.drills_due(now=timezone.now() + timedelta(days=6)) == []
    (again,) = services.drills_due(now=timezone.now() + timedelta(days=8))
    assert again.site == site and again.pk != drill.pk
