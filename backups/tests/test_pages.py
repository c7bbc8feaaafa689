"""The Backups tab: the list from the records, "Back up now" queues a run, restore asks first,
and another team's site or backup is not found."""

from __future__ import annotations

import pytest

from backups.models import Backup, Restore
from backups.tests.conftest import site_with_files
from hosting.models import Site

pytestmark = pytest.mark.services


def test_the_tab_lists_backups_and_offers_restore_with_a_confirmation(web, alice):
    site = site_with_files(alice)
    good = Backup.objects.create(site=site, state=Backup.State.SUCCEEDED, files=5, size=10_500)
    Backup.objects.create(
        site=site, state=Backup.State.FAILED, reason="restic check failed (exit 1): pack damaged"
    )
    page = web.get(f"/sites/{site.pk}/backups/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "restic check failed (exit 1): pack damaged" in html
    assert f"/sites/{site.pk}/backups/{good.pk}/restore/" in html
    assert "data-confirm=" in html and "The current state is backed up first" in html
    assert html.count("Restore</button>") == 1  # the failed one cannot be restored


def test_empty_state_then_back_up_now_queues_a_manual_backup(web, alice):
    site = site_with_files(alice)
    assert "No backups yet" in web.get(f"/sites/{site.pk}/backups/").content.decode()
    answer = web.post(f"/sites/{site.pk}/backups/new/")
    assert answer.status_code == 302
    backup = Backup.objects.get(site=site)
    assert backup.type == Backup.Type.MANUAL and backup.state == Backup.State.QUEUED
    assert backup.created_by == alice


def test_restoring_a_failed_backup_is_refused_with_a_message(web, alice):
    site = site_with_files(alice)
    failed = Backup.objects.create(site=site, state=Backup.State.FAILED, reason="dump failed")
    answer = web.post(f"/sites/{site.pk}/backups/{failed.pk}/restore/", follow=True)
    assert "Only a backup that succeeded can be restored." in answer.content.decode()
    assert not Restore.objects.exists()


def test_another_teams_site_and_backup_are_not_found(client, alice, bob):
    site = site_with_files(alice)
    good = Backup.objects.create(site=site, state=Backup.State.SUCCEEDED)
    bobs = site_with_files(bob, name="Bobs")
    client.force_login(bob)
    assert client.get(f"/sites/{site.pk}/backups/").status_code == 404
    assert client.post(f"/sites/{site.pk}/backups/new/").status_code == 404
    assert client.post(f"/sites/{bobs.pk}/backups/{good.pk}/restore/").status_code == 404
    assert not Restore.objects.exists() and Backup.objects.count() == 1


def test_restore_elsewhere_makes_the_new_site_or_takes_another_of_the_team(web, alice, bob):
    site = site_with_files(alice)
    other = site_with_files(alice, name="Other")
    good = Backup.objects.create(site=site, state=Backup.State.SUCCEEDED, snapshot_id="abc")
    html = web.get(f"/sites/{site.pk}/backups/").content.decode()
    assert f'<option value="{other.pk}">Other</option>' in html
    assert f'for="new-site-{good.pk}"' in html

    url = f"/sites/{site.pk}/backups/{good.pk}/restore-elsewhere/"
    answer = web.post(url, {"new_site_name": "Garden copy", "target": ""})
    copy = Site.objects.get(name="Garden copy")
    assert answer.status_code == 302 and answer["Location"] == f"/sites/{copy.pk}/backups/"
    assert Restore.objects.get(target=copy).backup == good

    web.post(url, {"new_site_name": "", "target": str(other.pk)})
    assert Restore.objects.get(target=other).backup == good

    bobs = site_with_files(bob, name="Bobs")
    answer = web.post(url, {"new_site_name": "", "target": str(bobs.pk)}, follow=True)
    assert not Restore.objects.filter(target=bobs).exists()  # not a choice: refused
    answer = web.post(url, {"new_site_name": "", "target": ""}, follow=True)
    assert "Name a new site, or choose one of your sites." in answer.content.decode()
