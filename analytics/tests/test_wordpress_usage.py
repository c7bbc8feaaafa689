"""A real WordPress site end to end: its PHP pool (php-fpm under supervisord) is read for CPU
time and memory, the requests the embedded server answers for it are counted by status and
path, and both show in the team's analytics."""

from __future__ import annotations

import pytest
from django.utils import timezone

from analytics import selectors
from hosting.models import Site, SitePathDay, SiteStatusDay
from hosting.serving.app import SiteServer
from monitoring.models import SiteUsageDay
from monitoring.services import site_processes_sample
from wordpress.tests.client import SiteClient
from wordpress.tests.conftest import api, wordpress_env  # noqa: F401 - fixtures
from wordpress.tests.test_provisioning import create

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_wordpress_sites_pool_and_traffic_count_for_its_team(wordpress_env, api, alice):  # noqa: F811
    from wordpress.services import wordpress_provision

    site_id = create(api, "Counted").json()["id"]
    wordpress_provision(site_id=site_id)  # in this process: no worker needed
    site = Site.objects.get(pk=site_id)
    assert site.status == Site.Status.ONLINE, site.status_message

    server = SiteServer()
    browser = SiteClient(server, site.hostname)
    for _ in range(3):
        assert browser.get("/").status == 200  # PHP renders the home page each time
    assert browser.get("/wp-login.php").status == 200
    assert browser.get("/no-such-page/").status == 404  # WordPress's own not-found page
    assert server.counter.flush() == 1
    statuses = dict(SiteStatusDay.objects.filter(site=site).values_list("status", "requests"))
    assert statuses == {200: 4, 404: 1}
    paths = dict(SitePathDay.objects.filter(site=site).values_list("path", "requests"))
    assert paths == {"/": 3, "/wp-login.php": 1, "/no-such-page/": 1}

    assert site_processes_sample() == 1
    usage = SiteUsageDay.objects.get(site=site)
    assert usage.cpu_seconds > 0  # rendering pages took the pool's workers some CPU
    assert usage.memory_last > 10 * 2**20  # php-fpm's master and workers hold megabytes
    rows = {
        row["name"]: row
        for row in selectors.resource_usage(selectors.Scope(team=site.team, days=7))
    }
    assert rows["CPU"]["used"] == round(usage.cpu_seconds, 1)
    assert rows["Memory"]["used"] == usage.memory_last
    assert 0 < rows["Memory"]["value"] < 100
    traffic = selectors.traffic(selectors.Scope(team=site.team, days=7, now=timezone.now()))
    assert traffic["statuses"] == [
        {"status": 200, "class": "2xx", "requests": 4},
        {"status": 404, "class": "4xx", "requests": 1},
    ]
