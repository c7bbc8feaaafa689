"""One click to a working WordPress: provisioning by a real Celery worker against MariaDB and
php-fpm under supervisord, served through the embedded site server; isolation between sites;
deletion and failures leave nothing behind."""

from __future__ import annotations

import json
import os
import re
import signal
from urllib.parse import urlsplit

import pytest

from hosting.models import Site
from hosting.serving.app import SiteServer
from wordpress import mariadb, system
from wordpress.layout import layout_for
from wordpress.models import WordPressSite
from wordpress.tests.client import SiteClient
from wordpress.tests.conftest import settled, wait_gone

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-admin-password"


def create(api, name: str, **extra):
    body = {
        "name": name,
        "kind": "wordpress",
        "title": f"{name} title",
        "adminUser": "owner",
        "adminEmail": "owner@example.com",
        "adminPassword": PASSWORD,
        **extra,
    }
    return api.post("/api/sites/create", body, format="json")


def title_of(body: bytes) -> str:
    match = re.search(rb"<title>(.*?)</title>", body, re.S)
    return match.group(1).decode() if match else ""


def parts_exist(site_id) -> dict[str, bool]:
    layout = layout_for(site_id)
    from controlpanel.supervision import default_supervisor

    programs = {p.name for p in default_supervisor().processes()}
    return {
        "database": mariadb.database_exists(layout.db_name),
        "db user": mariadb.user_exists(layout.db_user),
        "unix user": system.user_exists(layout),
        "folder": layout.root.exists(),
        "pool": layout.program in programs,
        "pool config": (default_supervisor().programs_dir / f"{layout.program}.conf").exists(),
    }


def test_one_click_gives_a_working_wordpress_its_owner_logs_in_to(wp_worker, api, web):
    response = create(api, "Blog")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "provisioning"  # at once; the worker does the rest
    site_id = response.json()["id"]

    site = settled(site_id)
    job = WordPressSite.objects.get(pk=site_id)
    assert site.status == Site.Status.ONLINE, (site.status_message, wp_worker.output()[-3000:])
    assert job.state == WordPressSite.State.DONE and job.finished_at is not None
    assert job.version == system.core_version()  # Debian's package, shown on the page
    assert job.admin_password == ""  # gone once WordPress has hashed it
    raw = WordPressSite.objects.filter(pk=site_id).values_list("db_password", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT db_password FROM wordpress_wordpresssite WHERE site_id = %s", [site_id]
        )
        stored = cursor.fetchone()[0]
    assert raw[0] not in stored  # encrypted at rest
    detail = api.get(f"/api/sites/{site_id}/wordpress").json()
    assert detail["provisioning"] == "done" and detail["poolState"] == "running"
    assert detail["version"] == job.version and detail["storage"]["database"] > 0
    assert re.fullmatch(r"8\.\d+\.\d+.*", detail["phpVersion"])
    page = web.get(f"/sites/{site_id}/wordpress/").content.decode()
    assert f">{job.version}<" in page and f">{detail['phpVersion']}<" in page

    browser = SiteClient(SiteServer(), site.hostname)
    home = browser.get("/")
    assert home.status == 200 and "Blog title" in title_of(home.body)
    assert browser.get("/wp-content/themes/twentytwentythree/style.css").status == 200
    login = browser.get("/wp-login.php")
    assert login.status == 200 and b'name="log"' in login.body
    signed_in = browser.post(
        "/wp-login.php",
        data={"log": "owner", "pwd": PASSWORD, "wp-submit": "Log In", "testcookie": "1"},
    )
    assert signed_in.status == 302, signed_in.body[:500]
    assert "/wp-admin/" in signed_in.header("location")
    dashboard = browser.get("/wp-admin/")
    assert dashboard.status == 200 and b"Dashboard" in dashboard.body

    # A post written through WordPress's own REST API shows on the home page (permalinks too).
    nonce = browser.get("/wp-admin/admin-ajax.php?action=rest-nonce").body.decode().strip()
    created = browser.post(
        "/wp-json/wp/v2/posts",
        json_body={"title": "Launch day", "content": "We are live.", "status": "publish"},
        headers={"X-WP-Nonce": nonce},
    )
    assert created.status == 201, created.body[:500]
    link = json.loads(created.body)["link"]
    assert b"Launch day" in SiteClient(SiteServer(), site.hostname).get("/").body
    post = SiteClient(SiteServer(), site.hostname).get(link.split(site.hostname, 1)[1])
    assert post.status == 200 and "Launch day" in title_of(post.body)


def test_provisioning_refused_without_mariadb_and_static_sites_unaffected(
    api, web, settings, monkeypatch
):
    from conftest import free_port

    settings.MARIADB_URL = ""  # the local default is tried, and nothing answers there
    monkeypatch.setattr(mariadb, "LOCAL_URL", f"mysql://root@127.0.0.1:{free_port()}")
    response = create(api, "Nope")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "WORDPRESS_UNAVAILABLE"
    message = response.json()["error"]["message"]
    assert "MARIADB_URL is not set" in message and mariadb.LOCAL_URL in message
    assert not Site.objects.filter(name="Nope").exists()
    page = web.get("/sites/new/wordpress/")
    assert page.status_code == 200 and b"WordPress is not available" in page.content
    static = api.post("/api/sites/create", {"name": "Static"}, format="json")
    assert static.status_code == 201 and static.json()["kind"] == "static"


def test_the_local_mariadb_is_used_when_mariadb_url_is_unset(wordpress_env, settings):
    """The embedded default: MariaDB at 127.0.0.1:3306 as root, as on these machines."""
    from wordpress.services import wordpress_problem

    settings.MARIADB_URL = ""
    assert mariadb.server().address == "127.0.0.1:3306"
    assert wordpress_problem() is None


def test_site_a_php_cannot_read_site_b_or_its_database(wp_worker, api):
    a = settled(create(api, "Alpha").json()["id"])
    b = settled(create(api, "Beta").json()["id"])
    assert a.status == b.status == Site.Status.ONLINE
    job_a, job_b = WordPressSite.objects.get(pk=a.pk), WordPressSite.objects.get(pk=b.pk)
    server = mariadb.server()
    probe = f"""<?php
header('Content-Type: application/json');
$config = {json.dumps(str(layout_for(b.pk).wp_config))};
$read = @file_get_contents($config);
$listing = @scandir({json.dumps(str(layout_for(b.pk).root))});
mysqli_report(MYSQLI_REPORT_OFF);
// connect_errno is the last attempt's (PHP keeps one per process): read it after each one.
@new mysqli('{server.host}', '{job_a.db_user}', '{job_a.db_password}', '{job_b.db_name}',
            {server.port});
$other = mysqli_connect_errno() === 0;
@new mysqli('{server.host}', '{job_a.db_user}', '{job_a.db_password}', '{job_a.db_name}',
            {server.port});
$own = mysqli_connect_errno() === 0;
echo json_encode([
    'read' => $read !== false,
    'listed' => $listing !== false,
    'other_db' => $other,
    'own_db' => $own,
]);
"""
    path = layout_for(a.pk).wp_content / "probe.php"
    path.write_text(probe)
    answer = SiteClient(SiteServer(), a.hostname).get("/wp-content/probe.php")
    assert answer.status == 200, answer.body[:500]
    result = json.loads(answer.body)
    assert result == {"read": False, "listed": False, "other_db": False, "own_db": True}
    if system.isolated():  # file permissions hold even without open_basedir
        stat = os.stat(layout_for(b.pk).wp_config)
        assert stat.st_mode & 0o777 == 0o400
        assert stat.st_uid != os.stat(layout_for(a.pk).wp_config).st_uid
    # And PHP never runs from uploads, whoever put it there.
    uploads = layout_for(a.pk).wp_content / "uploads" / "evil.php"
    uploads.write_text("<?php echo 'ran';")
    assert SiteClient(SiteServer(), a.hostname).get("/wp-content/uploads/evil.php").status == 403


def test_deleting_removes_database_user_pool_and_files(wp_worker, api, wordpress_env):
    site = settled(create(api, "Gone").json()["id"])
    assert site.status == Site.Status.ONLINE
    assert all(parts_exist(site.pk).values()) or not system.isolated()
    assert api.delete(f"/api/sites/{site.pk}").status_code == 204
    assert wait_gone(lambda: any(parts_exist(site.pk).values()))
    assert parts_exist(site.pk) == dict.fromkeys(parts_exist(site.pk), False)
    assert SiteClient(SiteServer(), site.hostname).get("/").status == 404


def test_a_failed_provisioning_ends_in_error_with_the_reason_and_leaves_nothing(
    transactional_db, settings, tmp_path, wordpress_env, api
):
    from deployments.tests.conftest import WorkerProcess, _purge_broker

    _purge_broker()
    env = {
        "MARIADB_URL": settings.MARIADB_URL,
        "WORDPRESS_ROOT": str(settings.WORDPRESS_ROOT),
        "SUPERVISOR_DIR": str(settings.SUPERVISOR_DIR),
        # Everything is made (database, users, files, pool) before the installer is missing.
        "WORDPRESS_PHP": "/nonexistent/php",
    }
    worker = WorkerProcess(tmp_path, settings, extra_env=env)
    try:
        site = settled(create(api, "Broken").json()["id"])
    finally:
        worker.stop()
    job = WordPressSite.objects.get(pk=site.pk)
    assert site.status == Site.Status.ERROR and job.state == WordPressSite.State.FAILED
    assert "PHP command line" in site.status_message and site.status_message == job.error
    assert parts_exist(site.pk) == dict.fromkeys(parts_exist(site.pk), False)
    assert job.admin_password == ""


def test_mariadb_down_during_provisioning_is_an_error_with_the_reason(
    transactional_db, settings, tmp_path, wordpress_env, api
):
    from conftest import free_port
    from deployments.tests.conftest import WorkerProcess, _purge_broker

    _purge_broker()
    env = {
        "MARIADB_URL": f"mysql://root@127.0.0.1:{free_port()}",  # nothing listens there
        "WORDPRESS_ROOT": str(settings.WORDPRESS_ROOT),
        "SUPERVISOR_DIR": str(settings.SUPERVISOR_DIR),
    }
    worker = WorkerProcess(tmp_path, settings, extra_env=env)
    try:
        site = settled(create(api, "NoDatabase").json()["id"])
    finally:
        worker.stop()
    assert site.status == Site.Status.ERROR
    assert "does not answer" in site.status_message
    assert not layout_for(site.pk).root.exists() and not system.user_exists(layout_for(site.pk))
    page = api.get(f"/api/sites/{site.pk}").json()
    assert page["status"] == "error"


def test_stop_start_and_a_crashed_pool_is_restarted(wp_worker, api, wordpress_env, operator):
    from conftest import bearer_client

    site = settled(create(api, "Pool").json()["id"])
    layout = layout_for(site.pk)
    # Operators see the pool with the other supervised processes ("containers").
    containers = bearer_client(operator).get("/api/containers").json()["containers"]
    [pool] = [c for c in containers if c["id"] == layout.program]
    assert pool["state"] == "running" and pool["memory"] > 0
    assert api.post(f"/api/sites/{site.pk}/wordpress/stop").json()["poolState"] == "stopped"
    assert SiteClient(SiteServer(), site.hostname).get("/").status == 503
    started = api.post(f"/api/sites/{site.pk}/wordpress/start").json()
    assert started["status"] == "online" and started["poolState"] == "running"
    assert SiteClient(SiteServer(), site.hostname).get("/").status == 200

    before = wordpress_env.process(layout.program).pid
    os.kill(before, signal.SIGKILL)  # php-fpm's master dies

    def back():
        info = wordpress_env.process(layout.program)
        return info.running and info.pid != before

    from deployments.tests.conftest import wait_for

    wait_for(back, timeout=30)
    wait_for(lambda: SiteClient(SiteServer(), site.hostname).get("/").status == 200, timeout=30)


def test_the_plan_limits_wordpress_sites(wordpress_env, api, alice):
    from billing.tests.factories import team_on_plan
    from teams.services import acting_team

    team_on_plan(acting_team(alice), "no-wordpress", wordpress_sites=0)
    response = create(api, "Over")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "PLAN_LIMIT_EXCEEDED"
    assert not Site.objects.filter(name="Over").exists()


def test_the_owner_logs_in_to_wordpress_from_the_panel_once(wp_worker, api, web):
    site = settled(create(api, "Login").json()["id"])
    page = web.post(f"/sites/{site.pk}/wordpress/login/")
    assert page.status_code == 200
    url = re.search(rb'url=([^"]+)"', page.content).group(1).decode().replace("&amp;", "&")
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    browser = SiteClient(SiteServer(), site.hostname)
    landed = browser.get(path)
    assert landed.status == 302 and landed.header("location").endswith("/wp-admin/")
    dashboard = browser.get("/wp-admin/")
    assert dashboard.status == 200 and b"Dashboard" in dashboard.body

    again = SiteClient(SiteServer(), site.hostname).get(path)  # someone replays the link
    assert again.status == 403 and b"used already" in again.body
    forged = SiteClient(SiteServer(), site.hostname).get(path[:-4] + "0000")
    assert forged.status == 403 and b"not valid" in forged.body
    link = api.post(f"/api/sites/{site.pk}/wordpress/login").json()
    assert link["url"].startswith(site.url) and link["expiresAt"]


def test_a_creator_who_lost_access_while_the_job_waited_gets_nothing_provisioned(
    wordpress_env, api, alice
):
    """The job asks the permission module when it runs, not only when it was queued."""
    from wordpress.services import wordpress_provision

    site_id = create(api, "Waited").json()["id"]
    alice.is_active = False  # suspended by an operator before a worker took the job
    alice.save(update_fields=["is_active"])
    wordpress_provision(site_id=site_id)
    site = Site.objects.get(pk=site_id)
    assert site.status == Site.Status.ERROR
    assert site.status_message == f"Not run: {alice} can no longer sign in."
    assert WordPressSite.objects.get(pk=site_id).state == WordPressSite.State.FAILED
    assert parts_exist(site_id) == dict.fromkeys(parts_exist(site_id), False)
