"""Updating a site's WordPress to the server's package from the panel: a "before WordPress
update" backup first (none, no update), then core re-linked to the package's files, WordPress's
database upgrade, and the site served by the new core."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from backups.models import Backup
from conftest import require_binary
from deployments.tests.conftest import WorkerProcess, _purge_broker, wait_for
from hosting.models import Site
from hosting.serving.app import SiteServer
from wordpress import mariadb, system
from wordpress.layout import layout_for
from wordpress.models import WordPressSite
from wordpress.tests.client import SiteClient
from wordpress.tests.conftest import settled
from wordpress.tests.test_provisioning import create

pytestmark = pytest.mark.django_db(transaction=True)

OLD = "6.1.1"


@pytest.fixture
def backup_root(settings):
    require_binary(settings.RESTIC_BINARY)
    root = Path(tempfile.mkdtemp(prefix="berth-backups-"))
    settings.BACKUP_ROOT = root
    settings.S3_BUCKET = ""
    yield root
    shutil.rmtree(root, ignore_errors=True)


def start_worker(settings, tmp_path, **extra) -> WorkerProcess:
    _purge_broker()
    env = {
        "MARIADB_URL": settings.MARIADB_URL,
        "WORDPRESS_ROOT": str(settings.WORDPRESS_ROOT),
        "SUPERVISOR_DIR": str(settings.SUPERVISOR_DIR),
        "BACKUP_ROOT": str(settings.BACKUP_ROOT),
        "S3_BUCKET": "",
        **extra,
    }
    return WorkerProcess(tmp_path, settings, extra_env=env)


def db_version(site) -> int:
    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(layout_for(site.pk).db_name)
        cursor.execute("SELECT option_value FROM wp_options WHERE option_name = 'db_version'")
        return int(cursor.fetchone()[0])


def make_outdated(site) -> int:
    """The site as if installed from an older package: its own (older) version.php, a core
    file the new package dropped, and a database one schema version behind. Returns the
    package's schema version."""
    layout = layout_for(site.pk)
    version_php = layout.htdocs / "wp-includes" / "version.php"
    text = version_php.read_text()
    current = int(re.search(r"\$wp_db_version = (\d+);", text).group(1))
    version_php.unlink()  # a file of the old core's, no longer the package's
    version_php.write_text(re.sub(r"\$wp_version = '[^']+';", f"$wp_version = '{OLD}';", text))
    (layout.htdocs / "wp-includes" / "class-dropped.php").write_text("<?php // old core only")
    with mariadb.connect() as conn, conn.cursor() as cursor:
        conn.select_db(layout.db_name)
        cursor.execute(
            "UPDATE wp_options SET option_value = %s WHERE option_name = 'db_version'",
            [current - 1],
        )
    WordPressSite.objects.filter(pk=site.pk).update(version=OLD)
    return current


def update_state(api, site) -> str:
    return api.get(f"/api/sites/{site.pk}/wordpress").json()["update"]["state"]


def test_an_update_backs_up_then_brings_the_site_to_the_package(
    wordpress_env, backup_root, settings, tmp_path, api, web
):
    worker = start_worker(settings, tmp_path)
    try:
        site = settled(create(api, "Aging").json()["id"])
        assert site.status == Site.Status.ONLINE
        schema = make_outdated(site)
        layout = layout_for(site.pk)
        detail = api.get(f"/api/sites/{site.pk}/wordpress").json()
        assert detail["version"] == OLD and detail["updateAvailable"] is True
        page = web.get(f"/sites/{site.pk}/wordpress/").content.decode()
        assert f"Update to {system.core_version()}" in page

        answer = api.post(f"/api/sites/{site.pk}/wordpress/update")
        assert answer.status_code == 202, answer.json()
        wait_for(lambda: update_state(api, site) in ("done", "failed"), timeout=240)
    finally:
        worker.stop()
    detail = api.get(f"/api/sites/{site.pk}/wordpress").json()
    assert detail["update"]["state"] == "done", (detail["update"], worker.output()[-3000:])
    assert detail["version"] == system.core_version() and detail["updateAvailable"] is False

    backup = Backup.objects.get(site=site, type=Backup.Type.BEFORE_WORDPRESS_UPDATE)
    assert backup.state == Backup.State.SUCCEEDED and backup.has_database
    job = WordPressSite.objects.get(pk=site.pk)
    assert backup.finished_at <= job.update_finished_at
    core = Path(settings.WORDPRESS_CORE)
    version_php = "wp-includes/version.php"
    assert os.path.samefile(layout.htdocs / version_php, core / version_php)
    assert not (layout.htdocs / "wp-includes" / "class-dropped.php").exists()
    assert not (layout.htdocs / ".maintenance").exists()
    assert db_version(site) == schema  # WordPress's own database upgrade ran

    browser = SiteClient(SiteServer(), site.hostname)
    assert browser.get("/").status == 200
    url = urlsplit(api.post(f"/api/sites/{site.pk}/wordpress/login").json()["url"])
    assert browser.get(f"{url.path}?{url.query}").status == 302
    dashboard = browser.get("/wp-admin/")
    assert dashboard.status == 200 and b"Dashboard" in dashboard.body

    again = api.post(f"/api/sites/{site.pk}/wordpress/update")
    assert again.status_code == 409 and again.json()["error"]["code"] == "NO_UPDATE"


def test_no_backup_no_update(wordpress_env, backup_root, settings, tmp_path, api):
    worker = start_worker(settings, tmp_path, RESTIC_BINARY="/nonexistent/restic")
    try:
        site = settled(create(api, "Careful").json()["id"])
        make_outdated(site)
        assert api.post(f"/api/sites/{site.pk}/wordpress/update").status_code == 202
        wait_for(lambda: update_state(api, site) in ("done", "failed"), timeout=240)
    finally:
        worker.stop()
    detail = api.get(f"/api/sites/{site.pk}/wordpress").json()
    assert detail["update"]["state"] == "failed" and detail["version"] == OLD
    assert "backup before the update failed" in detail["update"]["error"]
    version_php = layout_for(site.pk).htdocs / "wp-includes" / "version.php"
    assert f"'{OLD}'" in version_php.read_text()  # the core was not touched
    assert SiteClient(SiteServer(), site.hostname).get("/").status == 200
