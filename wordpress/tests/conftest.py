"""WordPress fixtures: real MariaDB, php-fpm under a real supervisord, a real Celery worker.

Site folders live outside pytest's private (0700) tmp_path so the sites' own Unix users can
reach their files, as they would under ``var/wordpress``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import require_binary, require_service
from controlpanel.supervision import Supervisor
from deployments.tests.conftest import WorkerProcess, _purge_broker, wait_for
from wordpress import mariadb

MARIADB_URL = "mysql://root@127.0.0.1:3306"


@pytest.fixture
def wordpress_env(settings, tmp_path):
    """MariaDB, php-fpm, core and a supervisord of this test's own."""
    settings.MARIADB_URL = django_settings.MARIADB_URL or MARIADB_URL
    require_service("MariaDB", mariadb.ping() is None, "start MariaDB or set MARIADB_URL")
    require_binary(settings.WORDPRESS_PHP_FPM)
    require_binary(settings.WORDPRESS_PHP)
    require_service("WordPress core", Path(settings.WORDPRESS_CORE, "wp-load.php").exists())
    root = Path(tempfile.mkdtemp(prefix="berth-wp-"))
    root.chmod(0o711)
    settings.WORDPRESS_ROOT = root / "sites"
    settings.SUPERVISOR_DIR = root / "supervisor"
    supervisor = Supervisor(settings.SUPERVISOR_DIR)
    supervisor.write_config([])
    supervisor.start()
    yield supervisor
    # What a failing test left: databases, users and pools of the sites made here.
    from wordpress.services import wordpress_teardown

    for folder in Path(settings.WORDPRESS_ROOT).glob("*-*-*-*-*"):
        wordpress_teardown(site_id=folder.name)
    supervisor.shutdown()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def wp_worker(transactional_db, settings, tmp_path, wordpress_env):
    """A real Celery worker provisioning with the same MariaDB, folders and supervisord."""
    _purge_broker()
    env = {
        "MARIADB_URL": settings.MARIADB_URL,
        "WORDPRESS_ROOT": str(settings.WORDPRESS_ROOT),
        "SUPERVISOR_DIR": str(settings.SUPERVISOR_DIR),
    }
    process = WorkerProcess(tmp_path, settings, extra_env=env)
    yield process
    process.stop()


def settled(site_id, timeout: float = 120):
    """The site once provisioning has ended (online or error)."""
    from hosting.models import Site

    def done():
        site = Site.objects.get(pk=site_id)
        return site if site.status != Site.Status.PROVISIONING else None

    return wait_for(done, timeout=timeout, interval=0.2)


def wait_gone(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return not check()


@pytest.fixture
def api(api, alice):
    """Alice's API client, her team on a plan with room for several WordPress sites."""
    from billing.tests.factories import team_on_plan
    from teams.services import acting_team

    team_on_plan(acting_team(alice), "roomy")
    return api
