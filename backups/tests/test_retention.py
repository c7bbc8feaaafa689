"""Retention: snapshots older than the plan's backup retention are forgotten and pruned after
a backup, and their rows go with them; unlimited retention keeps everything."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from backups import restic, services
from backups.models import Backup
from backups.tests.conftest import site_with_files
from billing.tests.factories import team_on_plan

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _old_backup(site) -> Backup:
    """A backup of the site whose snapshot was taken in 2020 (restic's --time)."""
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
            "2020-01-01 00:00:00",
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
