"""Backups with real restic: a backup holds the site, a restore brings it back byte for byte,
and a failing restic makes the run failed with restic's reason, never succeeded."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from backups import services
from backups.models import Backup, Repository, Restore
from backups.tests.conftest import FILES, files_of, site_with_files
from conftest import bearer_client
from deployments.tests.conftest import wait_for
from hosting.files.backends import tree_for

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _api_final(api, url: str, timeout: float = 120) -> dict:
    def done():
        body = api.get(url).json()
        return body if body["state"] in ("succeeded", "failed") else None

    return wait_for(done, timeout=timeout, interval=2)  # under the API rate limit


def test_back_up_change_restore_through_the_api_and_a_worker(backup_worker, alice, api):
    site = site_with_files(alice)

    answer = api.post(f"/api/sites/{site.pk}/backups")
    assert answer.status_code == 202, answer.content
    backup = _api_final(api, f"/api/sites/{site.pk}/backups/{answer.json()['id']}")
    assert backup["state"] == "succeeded", backup["reason"]
    assert backup["type"] == "manual"
    assert backup["siteId"] == str(site.pk)
    assert backup["verifiedAt"] and backup["snapshotId"]
    # the site's three files, the deployment manifest and the editor documents
    assert backup["files"] == 5
    assert backup["size"] >= sum(len(c) for c in FILES.values())

    tree = tree_for(site.pk)
    tree.save("index.html", io.BytesIO(b"<h1>Broken</h1>"))
    tree.delete_file("img/logo.png")
    tree.save("stray.txt", io.BytesIO(b"not in the backup"))

    answer = api.post(f"/api/sites/{site.pk}/backups/{backup['id']}/restore")
    assert answer.status_code == 202, answer.content
    restore = _api_final(api, f"/api/sites/{site.pk}/restores/{answer.json()['id']}")
    assert restore["state"] == "succeeded", restore["reason"]

    assert files_of(site) == FILES  # byte for byte, and the stray file is gone
    site.refresh_from_db()
    assert site.storage_used == sum(len(c) for c in FILES.values())

    listing = api.get(f"/api/sites/{site.pk}/backups").json()
    types = {b["type"]: b for b in listing["backups"]}
    assert set(types) == {"manual", "before_restore"}
    safety = types["before_restore"]
    assert safety["state"] == "succeeded" and safety["id"] == restore["safetyBackupId"]
    assert set(listing["backups"][0]) >= {"id", "siteId", "created", "size", "type"}

    # The before-restore backup holds the broken state: restoring it brings that back.
    answer = api.post(f"/api/sites/{site.pk}/backups/{safety['id']}/restore")
    restore = _api_final(api, f"/api/sites/{site.pk}/restores/{answer.json()['id']}")
    assert restore["state"] == "succeeded", restore["reason"]
    assert files_of(site)["stray.txt"] == b"not in the backup"
    assert "img/logo.png" not in files_of(site)


def test_a_wrong_repository_password_fails_the_backup_with_the_reason(db, alice):
    site = site_with_files(alice)
    first = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert first.state == Backup.State.SUCCEEDED, first.reason

    repo = Repository.objects.get(team=site.team)
    repo.password = "not-the-password"
    repo.save()

    failed = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert failed.state == Backup.State.FAILED
    assert "restic" in failed.reason and "password" in failed.reason.lower()
    assert failed.snapshot_id == "" and failed.verified_at is None


def test_a_corrupted_repository_fails_the_check_and_the_backup(db, alice, backup_root):
    site = site_with_files(alice)
    first = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert first.state == Backup.State.SUCCEEDED, first.reason

    repo = Repository.objects.get(team=site.team)
    packs = [p for p in Path(repo.location, "data").rglob("*") if p.is_file()]
    assert packs
    for pack in packs:  # every data pack damaged: the next backup's check must notice
        pack.chmod(0o600)
        pack.write_bytes(b"garbage" * 10)

    failed = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert failed.state == Backup.State.FAILED
    assert "restic check failed" in failed.reason


def test_missing_site_files_fail_a_wordpress_backup(db, alice, settings, tmp_path):
    from wordpress.tests.factories import wordpress_site_make

    settings.WORDPRESS_ROOT = tmp_path / "wp"
    site = wordpress_site_make(owner=alice, name="Blog")  # no folder was ever made
    failed = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert failed.state == Backup.State.FAILED
    assert "files are missing" in failed.reason


def test_a_failed_backup_cannot_be_restored(db, alice, api):
    site = site_with_files(alice)
    backup = Backup.objects.create(site=site, state=Backup.State.FAILED, reason="restic failed")
    answer = api.post(f"/api/sites/{site.pk}/backups/{backup.pk}/restore")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "NOT_RESTORABLE"
    assert not Restore.objects.exists()


def test_another_teams_backups_answer_404(db, alice, bob):
    site = site_with_files(alice)
    backup = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    bobs_site = site_with_files(bob, name="Bobs")
    as_bob = bearer_client(bob)

    assert as_bob.get(f"/api/sites/{site.pk}/backups").status_code == 404
    assert as_bob.post(f"/api/sites/{site.pk}/backups").status_code == 404
    assert as_bob.get(f"/api/sites/{site.pk}/backups/{backup.pk}").status_code == 404
    assert as_bob.post(f"/api/sites/{site.pk}/backups/{backup.pk}/restore").status_code == 404
    # alice's backup id under bob's own site is not found either
    assert as_bob.get(f"/api/sites/{bobs_site.pk}/backups/{backup.pk}").status_code == 404
    answer = as_bob.post(f"/api/sites/{bobs_site.pk}/backups/{backup.pk}/restore")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "BACKUP_NOT_FOUND"
    assert Backup.objects.filter(site=site).count() == 1
    assert not Restore.objects.exists()


def test_each_team_has_its_own_repository_and_password(db, alice, bob):
    site = site_with_files(alice)
    other = site_with_files(bob, name="Bobs")
    for s in (site, other):
        done = services.backup_run(backup_id=Backup.objects.create(site=s).pk)
        assert done.state == Backup.State.SUCCEEDED, done.reason
    mine, theirs = Repository.objects.get(team=site.team), Repository.objects.get(team=other.team)
    assert mine.location != theirs.location and mine.password != theirs.password
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM backups_repository WHERE team_id = %s", [mine.pk])
        stored = cursor.fetchone()[0]
    assert stored != mine.password and mine.password not in stored  # encrypted at rest
    shutil.rmtree(mine.location)  # a repository gone: the next backup says so, it is not "good"
    gone = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert gone.state == Backup.State.FAILED and "restic" in gone.reason
