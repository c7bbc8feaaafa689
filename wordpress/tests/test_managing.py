"""Managing a WordPress site from the panel: PHP limits, debug and maintenance mode applied to
the real pool and wp-config.php, and a new admin password that WordPress accepts."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from hosting.models import Site
from hosting.serving.app import SiteServer
from wordpress.layout import layout_for
from wordpress.tests.client import SiteClient
from wordpress.tests.conftest import settled
from wordpress.tests.test_provisioning import PASSWORD, create

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = """<?php
require __DIR__ . '/../wp-load.php';
header('Content-Type: application/json');
echo json_encode([
    'memory' => ini_get('memory_limit'),
    'upload' => ini_get('upload_max_filesize'),
    'time' => ini_get('max_execution_time'),
    'display' => ini_get('display_errors'),
    'debug' => WP_DEBUG,
]);
"""


def probe(site) -> dict:
    answer = SiteClient(SiteServer(), site.hostname).get("/wp-content/berth-probe.php")
    assert answer.status == 200, answer.body[:500]
    return json.loads(answer.body)


def logged_in(api, site) -> SiteClient:
    """A browser signed in to wp-admin through the panel's one-time link."""
    url = urlsplit(api.post(f"/api/sites/{site.pk}/wordpress/login").json()["url"])
    browser = SiteClient(SiteServer(), site.hostname)
    assert browser.get(f"{url.path}?{url.query}").status == 302
    return browser


def sign_in(site, password: str) -> int:
    browser = SiteClient(SiteServer(), site.hostname)
    browser.get("/wp-login.php")  # WordPress's test cookie
    form = {"log": "owner", "pwd": password, "wp-submit": "Log In", "testcookie": "1"}
    return browser.post("/wp-login.php", data=form).status


def test_php_limits_and_debug_mode_hold_in_the_pool(wp_worker, api, web):
    site = settled(create(api, "Tuned").json()["id"])
    assert site.status == Site.Status.ONLINE
    (layout_for(site.pk).wp_content / "berth-probe.php").write_text(PROBE)
    assert probe(site) == {
        "memory": "128M",
        "upload": "32M",
        "time": "30",
        "display": "0",
        "debug": False,
    }
    admin = logged_in(api, site)

    changed = api.patch(
        f"/api/sites/{site.pk}/wordpress",
        {"memoryMb": 96, "uploadMb": 8, "maxExecutionSeconds": 20, "debug": True},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert body["limits"] == {"memoryMb": 96, "uploadMb": 8, "maxExecutionSeconds": 20}
    assert body["debug"] is True and body["poolState"] == "running"
    assert probe(site) == {
        "memory": "96M",
        "upload": "8M",
        "time": "20",
        "display": "1",
        "debug": True,
    }
    # wp-config.php was rewritten with the same keys and salts: nobody was signed out.
    assert admin.get("/wp-admin/").status == 200

    # Above the plan: refused, nothing changes.
    refused = api.patch(f"/api/sites/{site.pk}/wordpress", {"memoryMb": 4096}, format="json")
    assert refused.status_code == 422
    assert "between 64 and 128" in refused.json()["error"]["details"]["memoryMb"][0]
    assert probe(site)["memory"] == "96M"

    # The page's form sets them back.
    form = {"memory_limit_mb": 128, "upload_limit_mb": 32, "max_execution_seconds": 30}
    assert web.post(f"/sites/{site.pk}/wordpress/settings/", form).status_code == 302
    assert probe(site)["display"] == "0" and probe(site)["memory"] == "128M"
    page = web.get(f"/sites/{site.pk}/wordpress/").content.decode()
    assert "Settings saved and applied." in page and "128 MB memory" in page


def test_maintenance_mode_keeps_visitors_out_and_lets_the_admin_in(wp_worker, api, web):
    site = settled(create(api, "Quiet").json()["id"])
    admin = logged_in(api, site)
    on = api.patch(f"/api/sites/{site.pk}/wordpress", {"maintenance": True}, format="json")
    assert on.status_code == 200 and on.json()["maintenance"] is True

    visitor = SiteClient(SiteServer(), site.hostname).get("/")
    assert visitor.status == 503 and b"Down for maintenance" in visitor.body
    assert visitor.header("retry-after") == "600"
    assert admin.get("/").status == 200  # the owner sees the site while working on it
    assert admin.get("/wp-admin/").status == 200

    form = {"memory_limit_mb": 128, "upload_limit_mb": 32, "max_execution_seconds": 30}
    web.post(f"/sites/{site.pk}/wordpress/settings/", form)  # the box unticked
    assert SiteClient(SiteServer(), site.hostname).get("/").status == 200


def test_a_new_admin_password_from_the_panel_logs_in(wp_worker, api, web):
    site = settled(create(api, "Locked").json()["id"])
    assert sign_in(site, PASSWORD) == 302

    short = api.post(f"/api/sites/{site.pk}/wordpress/password", {"password": "short"})
    assert short.status_code == 422
    changed = api.post(
        f"/api/sites/{site.pk}/wordpress/password", {"password": "a-brand-new-password"}
    )
    assert changed.status_code == 200 and changed.json() == {"adminUser": "owner"}
    assert sign_in(site, "a-brand-new-password") == 302
    assert sign_in(site, PASSWORD) == 200  # the old one no longer works

    posted = web.post(f"/sites/{site.pk}/wordpress/password/", {"password": "set-from-the-page"})
    assert posted.status_code == 302
    assert "The password of “owner” is changed" in web.get(posted.url).content.decode()
    assert sign_in(site, "set-from-the-page") == 302


def test_suspending_the_team_stops_the_pool_and_its_end_starts_it(wp_worker, api, alice, operator):
    """Suspension (by an operator, or billing for an unpaid bill) stops PHP, not only the
    pages; the end of it serves the site again. A site its owner stopped stays stopped."""
    from billing.models import Subscription
    from billing.services import subscription_payment_succeeded, subscription_set
    from deployments.tests.conftest import wait_for
    from operators.services import user_suspend, user_unsuspend
    from wordpress.pools import pool_state

    site = settled(create(api, "Paused").json()["id"])
    stopped = settled(create(api, "Resting").json()["id"])
    api.post(f"/api/sites/{stopped.pk}/wordpress/stop")
    layout = layout_for(site.pk)
    assert pool_state(layout) == "running"

    user_suspend(user=alice, actor=operator)
    wait_for(lambda: pool_state(layout) == "stopped", timeout=30)
    answer = SiteClient(SiteServer(), site.hostname).get("/")
    assert answer.status == 503 and b"Site suspended" in answer.body
    user_unsuspend(user=alice, actor=operator)
    wait_for(lambda: pool_state(layout) == "running", timeout=30)
    assert SiteClient(SiteServer(), site.hostname).get("/").status == 200

    team = site.team
    plan = Subscription.objects.get(team=team).plan
    subscription_set(team=team, plan=plan, status=Subscription.Status.SUSPENDED)
    wait_for(lambda: pool_state(layout) == "stopped", timeout=30)
    subscription_payment_succeeded(team=team)
    wait_for(lambda: pool_state(layout) == "running", timeout=30)
    assert SiteClient(SiteServer(), site.hostname).get("/").status == 200
    assert pool_state(layout_for(stopped.pk)) == "stopped"


def test_storage_used_counts_the_files_and_the_database(wp_worker, api):
    from wordpress import mariadb, system
    from wordpress.services import wordpress_storage_recount_all

    site = settled(create(api, "Heavy").json()["id"])
    layout = layout_for(site.pk)
    job_db = mariadb.database_size(layout.db_name)
    used = api.get(f"/api/sites/{site.pk}").json()["storage"]["used"]
    assert job_db > 0 and used >= job_db + system.files_bytes(layout) - 4096
    # Core is hard-linked from the package and not the site's; an upload is.
    assert used < 40 * 1024 * 1024
    (layout.wp_content / "uploads" / "photo.jpg").write_bytes(b"\0" * 3_000_000)
    assert wordpress_storage_recount_all() == 1
    after = api.get(f"/api/sites/{site.pk}").json()["storage"]["used"]
    assert after - used >= 3_000_000


def test_the_plan_sets_where_php_limits_start_and_how_far_they_go(wp_worker, api, alice):
    from asgiref.sync import async_to_sync

    from billing.tests.factories import team_on_plan
    from hosting.serving.edge import php_site
    from teams.services import acting_team
    from wordpress.serving import body_limit

    team_on_plan(
        acting_team(alice),
        "roomy",
        wordpress_sites=None,
        php_memory_mb=192,
        php_upload_mb=64,
        php_execution_seconds=45,
    )
    site = settled(create(api, "Roomy").json()["id"])
    assert site.status == Site.Status.ONLINE
    (layout_for(site.pk).wp_content / "berth-probe.php").write_text(PROBE)
    assert probe(site) | {"display": None, "debug": None} == {
        "memory": "192M",
        "upload": "64M",
        "time": "45",
        "display": None,
        "debug": None,
    }
    # Both servers take uploads of the site's own size (and a megabyte for the form).
    assert php_site(site.pk).upload_mb == 64 and php_site(site.pk).timeout_seconds == 75
    assert async_to_sync(body_limit)(site.pk) == 65 * 1024 * 1024

    refused = api.patch(f"/api/sites/{site.pk}/wordpress", {"memoryMb": 256}, format="json")
    assert refused.status_code == 422
    assert "between 64 and 192" in refused.json()["error"]["details"]["memoryMb"][0]
    lowered = api.patch(f"/api/sites/{site.pk}/wordpress", {"uploadMb": 16}, format="json")
    assert lowered.status_code == 200 and probe(site)["upload"] == "16M"
    assert php_site(site.pk).upload_mb == 16
