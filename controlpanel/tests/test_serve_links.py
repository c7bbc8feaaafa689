"""``PORT=8201 scripts/run.sh`` without PANEL_URL: site links say :8201, as the banner does.

Before, every site link (Visit buttons, the API's ``url``, the build log's "Live at" line, made
by the worker) kept the default PANEL_URL's :8000 while the panel listened elsewhere.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import bearer_client, free_port
from hosting.services import site_create

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_site_links_follow_the_port_serve_was_given(alice, tmp_path, settings):
    from deployments.tests.conftest import database_url

    site = site_create(owner=alice, name="Shop", slug="shop")
    token = bearer_client(alice).token.access
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PANEL_URL", "SITES_PORT", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        BERTH_READ_DOTENV="0",
        DATABASE_URL=database_url(),
        BERTH_VAR_DIR=str(tmp_path / "var"),
        DEBUG="1",  # static files from the source tree, no collectstatic
        CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
        CELERY_BROKER_URL="memory://",  # this worker must not take other tests' tasks
    )
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port), "--concurrency", "1"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.3)
        expected = f"http://shop.localhost:{port}"
        listed = requests.get(
            f"http://127.0.0.1:{port}/api/sites/{site.pk}",
            headers={"Authorization": f"Bearer {token}", "Host": f"localhost:{port}"},
            timeout=10,
        )
        assert listed.status_code == 200, listed.text
        assert listed.json()["url"] == expected
        # The worker (which writes "Live at <url>" into build logs) is told the same address.
        from controlpanel.supervision import Supervisor

        programs = Supervisor(tmp_path / "var" / "supervisor").programs_dir
        for name in ("web", "worker"):
            program = (programs / f"{name}.conf").read_text()
            assert f'PANEL_URL="http://localhost:{port}"' in program, program
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
