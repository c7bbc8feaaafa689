"""Deleting a backup (after a confirmation on the page): the row goes at once, a worker forgets
its snapshot and prunes the repository, and the team's backup storage — measured with restic
stats after every backup and prune — shrinks, on the Backups tab, the billing page and the API.
"""

from __future__ import annotations

import io
import os

import pytest

from backups import restic, services
from backups.models import Backup, Repository
from backups.tests.conftest import site_with_files
from conftest import bearer_client
from deployments.tests.conftest import wait_for
from hosting.files.backends import tree_for
from teams.models import AuditEvent

pytestmark = [pytest.mark.services, pytest.mark.slow]

BIG = 3 * 1024 * 1024


def run_backup(site) -> Backup:
    backup = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    return backup


def test_deleting_a_backup_forgets_its_snapshot_and_frees_its_storage(backup_worker, alice, api):
    site = site_with_files(alice)
    tree_for(site.pk).save("video.bin", io.BytesIO(os.urandom(BIG)))  # incompressible
    first = run_backup(site)
    tree_for(site.pk).delete_file("video.bin")
    second = run_backup(site)
    repo = Repository.objects.get(team=site.team)
    assert repo.stored_bytes > BIG and repo.measured_at is not None
    before = repo.stored_bytes

    usage = api.get("/api/billing/usage").json()
    assert usage["backups"] == {"used": before}

    answer = api.delete(f"/api/sites/{site.pk}/backups/{first.pk}")
    assert answer.status_code == 204
    assert not Backup.objects.filter(pk=first.pk).exists()
    assert api.get(f"/api/sites/{site.pk}/backups/{first.pk}").status_code == 404

    def pruned():
        repo.refresh_from_db()
        return repo.stored_bytes < before - BIG // 2 or None

    wait_for(pruned, timeout=120, interval=0.5)
    left = {s["short_id"] for s in restic.snapshots(repo.location, repo.password)}
    assert left == {second.snapshot_id}
    event = AuditEvent.objects.get(action="backup.delete")
    assert event.actor == alice and event.details["snapshot"] == first.snapshot_id


def test_the_page_asks_before_deleting_and_shows_the_storage(backup_root, alice, web):
    site = site_with_files(alice)
    backup = run_backup(site)
    page = web.get(f"/sites/{site.pk}/backups/").content.decode()
    action = f"/sites/{site.pk}/backups/{backup.pk}/delete/"
    form = page[page.index(action) - 300 : page.index(action) + 400]
    assert "data-confirm=" in form and "cannot be restored or downloaded afterwards" in form
    assert "data-backup-storage" in page
    stored = Repository.objects.get(team=site.team).stored_bytes
    assert stored > 0

    billing = web.get("/billing/").content.decode()
    assert 'data-meter="backup_storage"' in billing

    answer = web.post(action)
    assert answer.status_code == 302
    assert not Backup.objects.filter(pk=backup.pk).exists()


def test_a_running_backup_cannot_be_deleted_and_another_team_gets_404(backup_root, alice, bob, api):
    site = site_with_files(alice)
    running = Backup.objects.create(site=site, state=Backup.State.RUNNING)
    answer = api.delete(f"/api/sites/{site.pk}/backups/{running.pk}")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "BACKUP_BUSY"
    assert Backup.objects.filter(pk=running.pk).exists()

    failed = Backup.objects.create(site=site, state=Backup.State.FAILED, reason="no space")
    assert bearer_client(bob).delete(f"/api/sites/{site.pk}/backups/{failed.pk}").status_code == 404
    assert Backup.objects.filter(pk=failed.pk).exists()
    assert api.delete(f"/api/sites/{site.pk}/backups/{failed.pk}").status_code == 204


def test_forgetting_twice_is_harmless(backup_root, alice):
    site = site_with_files(alice)
    backup = run_backup(site)
    snapshot, team_id = backup.snapshot_id, site.team_id
    backup.delete()
    services.snapshot_forget(team_id=team_id, snapshot_id=snapshot)
    services.snapshot_forget(team_id=team_id, snapshot_id=snapshot)
    repo = Repository.objects.get(team_id=team_id)
    assert restic.snapshots(repo.location, repo.password) == []
