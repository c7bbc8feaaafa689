"""Restores with real restic, MariaDB and Celery: a static site switches atomically to the
restored release (a new immutable deployment, one pointer switch), a restore can go into a new
site, a restore cut short — its worker killed while it fetches, or dying right at the end of
its switch — leaves the site as it was, and WordPress comes back owned by its Unix user."""

from __future__ import annotations

import io
import os
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from backups import restores, services
from backups.models import Backup, Restore
from backups.tests.conftest import FILES, files_of, site_with_files
from backups.tests.test_jobs import big_site
from backups.tests.test_wordpress import _rows, blog  # noqa: F401 - the WordPress site fixture
from deployments.models import Deployment
from deployments.tests.conftest import wait_for
from hosting.files.backends import tree_for
from hosting.models import Site
from hosting.services import site_deploy
from wordpress import mariadb, system
from wordpress.layout import layout_for

pytestmark = [pytest.mark.services, pytest.mark.slow]


def backed_up(site) -> Backup:
    done = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert done.state == Backup.State.SUCCEEDED, done.reason
    return done


def restored(backup, **where) -> Restore:
    job = services.restore_create(backup=backup, **where)
    done = services.restore_run(restore_id=job.pk)
    assert done.state == Restore.State.SUCCEEDED, done.reason
    return done


def live(site) -> Deployment:
    return Site.objects.get(pk=site.pk).live_deployment


class Killed(BaseException):
    """The worker dies (nothing after this point runs, nothing catches it)."""


def switch_then_die(job, monkeypatch) -> None:
    """Run the restore's steps in this process, its worker "dying" the moment its switch is
    complete, before it can record that (the latest point a kill can leave it half-done)."""
    phase = restores._phase

    def dying(job, name):
        if name == "cleaning":
            raise Killed
        phase(job, name)

    monkeypatch.setattr(restores, "_phase", dying)
    Restore.objects.filter(pk=job.pk).update(state=Restore.State.RUNNING)
    with pytest.raises(Killed):
        restores._restore_steps(Restore.objects.get(pk=job.pk))
    monkeypatch.undo()
    Restore.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))


def test_a_static_site_switches_to_the_restored_release(db, alice):
    site = site_with_files(alice)
    original = site_deploy(site=site, author=alice)
    backup = backed_up(site)
    assert "live/index.html" in backup.record["files"]

    tree = tree_for(site.pk)
    tree.save("index.html", io.BytesIO(b"<h1>Broken</h1>"))
    tree.delete_file("img/logo.png")
    broken = site_deploy(site=site, author=alice)
    assert live(site) == broken

    restored(backup, user=alice)
    now_live = live(site)
    assert now_live not in (original, broken)  # a new deployment, switched to
    assert now_live.status == Deployment.Status.SUCCESS
    assert now_live.manifest_id == original.manifest_id  # the very release that was live
    assert files_of(site) == FILES
    assert Deployment.objects.filter(pk=broken.pk).exists()  # history kept: a rollback away


def test_a_restore_into_a_new_site_leaves_the_old_one_alone(db, alice, api):
    site = site_with_files(alice)
    original = site_deploy(site=site, author=alice)
    backup = backed_up(site)
    tree_for(site.pk).save("index.html", io.BytesIO(b"<h1>Later work</h1>"))

    answer = api.post(
        f"/api/sites/{site.pk}/backups/{backup.pk}/restore",
        {"newSiteName": "Garden copy"},
        format="json",
    )
    assert answer.status_code == 202, answer.content
    body = answer.json()
    copy = Site.objects.get(name="Garden copy")
    assert body["siteId"] == str(copy.pk) and body["sourceSiteId"] == str(site.pk)
    done = services.restore_run(restore_id=body["id"])
    assert done.state == Restore.State.SUCCEEDED, done.reason
    assert done.safety_backup is None  # a new site has nothing to lose

    assert files_of(copy) == FILES
    assert live(copy).manifest_id == original.manifest_id
    assert files_of(site)["index.html"] == b"<h1>Later work</h1>"  # the source is untouched
    assert live(site) == original
    status = api.get(f"/api/sites/{copy.pk}/restores/{body['id']}").json()
    assert status["state"] == "succeeded"


def test_a_restore_dying_at_the_end_of_its_switch_is_rolled_back(db, alice, monkeypatch):
    site = site_with_files(alice)
    site_deploy(site=site, author=alice)
    backup = backed_up(site)
    tree_for(site.pk).save("index.html", io.BytesIO(b"<h1>Newer</h1>"))
    newer = site_deploy(site=site, author=alice)
    before = files_of(site)

    job = services.restore_create(backup=backup, user=alice)
    switch_then_die(job, monkeypatch)
    assert files_of(site) == FILES and live(site) != newer  # it had switched

    assert services.jobs_reap() == 1
    job.refresh_from_db()
    assert job.state == Restore.State.FAILED
    assert "stopped responding" in job.reason and "put back as it was" in job.reason
    assert live(site) == newer
    assert files_of(site) == before


def test_a_restore_whose_worker_is_killed_leaves_the_site_as_it_was(
    backup_worker, alice, backup_root
):
    site = big_site(alice, megabytes=60)
    deployed = site_deploy(site=site, author=alice)
    backup = backed_up(site)
    tree_for(site.pk).save("index.html", io.BytesIO(b"<h1>Newer</h1>"))
    before = files_of(site)

    job = services.restore_create(backup=backup, user=alice)
    wait_for(
        lambda: Restore.objects.filter(pk=job.pk, phase__in=["fetching", "preparing"]).exists(),
        timeout=120,
        interval=0.05,
    )
    backup_worker.kill()
    assert services.jobs_reap(stale_after=0) >= 1
    job.refresh_from_db()
    assert job.state == Restore.State.FAILED and "as it was" in job.reason
    assert files_of(site) == before and live(site) == deployed
    assert not (backup_root / "scratch" / f"restore-{job.pk}").exists()


def test_wordpress_comes_back_owned_by_its_user_out_of_maintenance(blog):  # noqa: F811
    layout = layout_for(blog.pk)
    backup = backed_up(blog)
    rows = _rows(blog)
    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(blog.wordpress.db_name)
        cursor.execute("DELETE FROM posts")
    (layout.wp_content / "uploads" / "photo.jpg").unlink()

    try:
        job = restored(backup)
        assert _rows(blog) == rows
        assert not (layout.htdocs / ".maintenance").exists()
        assert not (layout.wp_content / ".berth-restore").exists()
        owner = system.owner_for(layout)
        for path in [layout.wp_content, *layout.wp_content.rglob("*")]:
            stat = path.lstat()
            assert (stat.st_uid, stat.st_gid) == (owner.uid, owner.gid), path
        loaded, trash = f"wp_{job.pk.hex[:24]}", f"wp_{job.pk.hex}"
        assert not mariadb.database_exists(loaded) and not mariadb.database_exists(trash)
        assert not list(layout.root.glob(".wp-content.restore-*"))
    finally:
        system.user_remove(layout)


def test_the_maintenance_flag_holds_however_long_a_restore_takes(tmp_path):
    php = system.find_binary("php")
    if php is None:
        pytest.fail("php (the PHP command line) is needed: apt-get install php-cli")
    flag = tmp_path / ".maintenance"
    flag.write_text(restores.MAINTENANCE)
    hour_ago = timezone.now().timestamp() - 3600
    os.utime(flag, (hour_ago, hour_ago))
    # WordPress's own test (wp_is_maintenance_mode): on while now - $upgrading < 600 seconds.
    script = f"require '{flag}'; echo (time() - $upgrading) < 600 ? 'on' : 'off';"
    done = subprocess.run([php, "-r", script], capture_output=True, text=True, check=True)
    assert done.stdout == "on"


def test_a_wordpress_restore_dying_at_the_end_of_its_switch_is_rolled_back(blog, monkeypatch):  # noqa: F811
    layout = layout_for(blog.pk)
    backup = backed_up(blog)
    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(blog.wordpress.db_name)
        cursor.execute("DELETE FROM posts WHERE id > 5")
    (layout.wp_content / "themes" / "style.css").write_text("/* newer */")
    rows = _rows(blog)

    try:
        job = services.restore_create(backup=backup)
        switch_then_die(job, monkeypatch)
        assert len(_rows(blog)) == 50  # it had switched, in maintenance mode
        assert (layout.htdocs / ".maintenance").exists()
        assert services.jobs_reap() == 1
        job.refresh_from_db()
        assert job.state == Restore.State.FAILED and "put back as it was" in job.reason
        assert _rows(blog) == rows
        assert (layout.wp_content / "themes" / "style.css").read_text() == "/* newer */"
        assert not (layout.htdocs / ".maintenance").exists()
    finally:
        system.user_remove(layout)
