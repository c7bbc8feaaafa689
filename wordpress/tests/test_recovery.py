"""``manage.py wordpress_recover``: a WordPress site whose install was lost with its machine
(database, database user, folder, PHP pool) comes back from the panel's records and its newest
backup, on real MariaDB, php-fpm and restic, and serves its posts again."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from backups import services as backups
from backups.models import Backup
from backups.tests.conftest import backup_root  # noqa: F401  (restic into a folder of its own)
from hosting.models import Site
from hosting.serving.app import SiteServer
from wordpress import mariadb, pools, system
from wordpress.layout import layout_for
from wordpress.tests.client import SiteClient
from wordpress.tests.test_provisioning import create, parts_exist

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

POST = r"""<?php
$input = json_decode(stream_get_contents(STDIN), true);
$_SERVER['HTTP_HOST'] = $input['host'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
require $input['htdocs'] . '/wp-load.php';
$id = wp_insert_post(array(
    'post_title' => $input['title'], 'post_name' => $input['name'],
    'post_content' => $input['content'], 'post_status' => 'publish',
), true);
if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message()); exit(2); }
echo json_encode(array('id' => $id));
"""


def provisioned(api, name: str) -> Site:
    from wordpress.services import wordpress_provision

    site_id = create(api, name).json()["id"]
    wordpress_provision(site_id=site_id)  # no worker: provisioned here, as a worker would
    site = Site.objects.get(pk=site_id)
    assert site.status == Site.Status.ONLINE, site.status_message
    return site


def post(site: Site, title: str, name: str) -> int:
    layout = layout_for(site.pk)
    payload = {"host": site.hostname, "title": title, "name": name, "content": f"{title}!"}
    return system.run_php(layout, system.owner_for(layout), POST, payload, what="Posting")["id"]


def lose_install(site: Site) -> None:
    """What a lost machine leaves: nothing of the site outside the panel's records."""
    layout = layout_for(site.pk)
    pools.pool_remove(layout)
    mariadb.database_drop(name=layout.db_name, user=layout.db_user)
    system.files_remove(layout)
    system.user_remove(layout)
    assert not any(parts_exist(site.pk).values())


def titles(site: Site) -> list[str]:
    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(site.wordpress.db_name)
        cursor.execute("SELECT post_title FROM wp_posts WHERE post_type = 'post' ORDER BY ID")
        return [row[0] for row in cursor.fetchall()]


def recover(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("wordpress_recover", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(f"CommandError: {exc}")
    return out.getvalue(), err.getvalue()


def test_a_lost_site_is_provisioned_again_and_its_newest_backup_restored(
    wordpress_env,
    api,
    backup_root,  # noqa: F811
):
    site = provisioned(api, "Lost")
    post(site, "Before the backup", "before-the-backup")
    backup = backups.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    kept = provisioned(api, "Kept")  # still installed here: left alone
    post(kept, "Kept post", "kept-post")
    lose_install(site)

    out, err = recover()
    assert err == "", err
    assert f"{site.slug}: RESTORED: re-provisioned and restored the backup of" in out
    assert f"{kept.slug}: SKIPPED: installed on this machine; left alone" in out
    assert all(parts_exist(site.pk).values()), parts_exist(site.pk)
    assert "Before the backup" in titles(site)
    assert Site.objects.get(pk=site.pk).status == Site.Status.ONLINE
    page = SiteClient(SiteServer(), site.hostname).get("/before-the-backup/")
    assert page.status == 200 and b"Before the backup" in page.body
    assert titles(kept) == ["Hello world!", "Kept post"]

    out, err = recover("--site", site.slug)  # run again: nothing to do
    assert f"{site.slug}: SKIPPED: installed on this machine" in out and err == ""


def test_a_lost_site_without_a_backup_comes_back_empty_with_a_warning(
    wordpress_env,
    api,
    backup_root,  # noqa: F811
):
    site = provisioned(api, "Unsaved")
    post(site, "Never backed up", "never-backed-up")
    lose_install(site)

    out, _err = recover("--site", site.slug)
    assert f"{site.slug}: EMPTY: re-provisioned EMPTY: the site has no successful backup" in out
    assert titles(site) == ["Hello world!"]  # a fresh WordPress, not WordPress's install page
    page = SiteClient(SiteServer(), site.hostname).get("/")
    assert page.status == 200 and b"Unsaved title" in page.body


def test_an_unknown_site_or_a_failed_recovery_exits_non_zero(
    wordpress_env,
    api,
    backup_root,  # noqa: F811
):
    _out, err = recover("--site", "no-such-site")
    assert "No WordPress site with the address no-such-site" in err

    site = provisioned(api, "Broken")
    lose_install(site)
    site.wordpress.db_user = "bad name!"  # provisioning refuses it with its reason
    site.wordpress.save(update_fields=["db_user"])
    _out, err = recover()
    assert f"{site.slug}: FAILED: re-provisioning failed:" in err
    assert "CommandError: 1 of 1 WordPress sites could not be recovered." in err


def test_force_restores_over_an_installed_site_and_a_stopped_site_stays_stopped(
    wordpress_env,
    api,
    backup_root,  # noqa: F811
):
    from wordpress.services import wordpress_stop

    site = provisioned(api, "Forced")
    post(site, "In the backup", "in-the-backup")
    backup = backups.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    post(site, "After the backup", "after-the-backup")
    wordpress_stop(site=site)

    out, err = recover()
    assert f"{site.slug}: SKIPPED: installed on this machine; left alone" in out and err == ""
    assert "After the backup" in titles(site)

    out, err = recover("--force", "--site", site.slug)
    assert err == "", err
    assert f"{site.slug}: RESTORED: provisioned again (--force) and restored the backup" in out
    assert titles(site) == ["Hello world!", "In the backup"]
    assert Site.objects.get(pk=site.pk).status == Site.Status.OFFLINE
    assert pools.pool_state(layout_for(site.pk)) != "running"
