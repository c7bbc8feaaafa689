"""WordPress through the nginx edge: FastCGI to the site's pool, permalinks, static files,
no PHP under uploads, xmlrpc.php off, a request limit on wp-login.php."""

from __future__ import annotations

import os
import re

import pytest

from hosting.models import Site
from hosting.serving.edge import edge_config_path, edge_sync
from hosting.tests.serving_support import Nginx, free_port
from hosting.tests.test_serving_contract import eventually
from wordpress.layout import layout_for
from wordpress.tests.conftest import settled
from wordpress.tests.test_provisioning import create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def edge_nginx(settings, tmp_path):
    port = free_port()
    settings.EDGE_ROOT = tmp_path / "edge"
    settings.EDGE_CONFIG = ""
    settings.EDGE_ACCESS_LOG = ""
    settings.EDGE_LISTEN = f"127.0.0.1:{port}"
    settings.EDGE_LISTEN_TLS = f"127.0.0.1:{free_port()}"
    settings.EDGE_NGINX_USER = "root" if os.geteuid() == 0 else ""
    settings.EDGE_RELOAD_COMMAND = ""
    state = {}

    def start() -> Nginx:
        state["nginx"] = Nginx(settings.EDGE_ROOT, edge_config_path(), port).start()
        return state["nginx"]

    yield start
    if "nginx" in state:
        state["nginx"].stop()


def test_the_edge_serves_wordpress_through_its_pool(wp_worker, api, edge_nginx):
    site = settled(create(api, "Edge").json()["id"])
    assert site.status == Site.Status.ONLINE
    edge_sync()
    config = edge_config_path().read_text()
    assert f'fastcgi_pass "unix:{layout_for(site.pk).socket}"' in config
    nginx = edge_nginx()
    host = site.hostname

    home = nginx.get(host, "/")
    assert home.status == 200
    assert "Edge title" in re.search(rb"<title>(.*?)</title>", home.body, re.S).group(1).decode()
    assert nginx.get(host, "/hello-world/").status == 200  # a permalink, through index.php
    css = nginx.get(host, "/wp-content/themes/twentytwentythree/style.css")
    assert css.status == 200 and css.header("content-type").startswith("text/css")
    assert b'name="log"' in nginx.get(host, "/wp-login.php").body
    assert nginx.get(host, "/xmlrpc.php").status == 403
    assert nginx.get(host, "/wp-config.php").status == 404
    (layout_for(site.pk).wp_content / "uploads" / "shell.php").write_text("<?php echo 'ran';")
    assert nginx.get(host, "/wp-content/uploads/shell.php").status == 403

    # Guessing passwords: after a burst, the login form answers 429.
    statuses = {nginx.get(host, "/wp-login.php").status for _ in range(20)}
    assert 429 in statuses

    # Stopped: the edge answers 503 without asking PHP.
    api.post(f"/api/sites/{site.pk}/wordpress/stop")
    assert edge_sync().reloaded
    assert eventually(lambda: nginx.get(host, "/"), 503).status == 503
