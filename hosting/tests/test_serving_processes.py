"""Several processes: web servers (daphne, uvicorn) see a deploy made by another process.

Process B (as the Celery worker would) publishes a new deployment; two web processes that
already cached the old one must serve the new one shortly after, through the change feed
(Redis stream with REDIS_URL, a file under VAR_DIR without).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.tests.serving_support import free_port, http_get, start_asgi_server, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

PUBLISH = """
import django, io, sys
django.setup()
from deployments.services import deployment_publish
from hosting.models import Site
site = Site.objects.get(slug=sys.argv[1])
deployment_publish(site=site, files=[("index.html", lambda: io.BytesIO(sys.argv[2].encode()))],
                   source="git")
"""


def shared_environment(tmp_path: Path) -> dict:
    """Settings for child processes that share this test's database, files and feed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    if connection.vendor == "sqlite":
        # The test database lives in memory: copy it to a file the children can open.
        path = tmp_path / "shared.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        env["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    env.update(
        DJANGO_SETTINGS_MODULE="controlpanel.settings",
        BERTH_READ_DOTENV="0",
        BERTH_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(Path(django_settings.STORAGES["blobs"]["OPTIONS"]["location"]).parent),
        CACHE_KEY_PREFIX=f"t{uuid.uuid4().hex[:10]}",
        SERVING_CHECK_INTERVAL_MS="100",
        SERVING_BANDWIDTH_FLUSH="3600",
        SITES_DOMAIN="localhost",
        PYTHONPATH=str(ROOT),
    )
    env.pop("EDGE_ENABLED", None)
    return env


def wait_for_body(port: int, host: str, expected: bytes, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        answer = http_get(port, host, "/")
        if answer.body == expected or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_a_deploy_in_another_process_reaches_every_web_process(alice, tmp_path):
    site = make_site(alice, slug="multi")
    deployment_publish(site=site, files=files({"index.html": b"version one"}), source="upload")
    env = shared_environment(tmp_path)
    ports = {"daphne": free_port(), "uvicorn": free_port()}
    servers = {kind: start_asgi_server(kind, port, env, ROOT) for kind, port in ports.items()}
    try:
        for kind, port in ports.items():
            first = http_get(port, "multi.localhost:8000", "/")
            assert first.status == 200 and first.body == b"version one", kind
            # The panel itself still answers on its own host, through Django.
            assert http_get(port, "localhost:8000", "/health").status == 200, kind

        subprocess.run(
            [sys.executable, "-c", PUBLISH, "multi", "version two"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        for kind, port in ports.items():
            answer = wait_for_body(port, "multi.localhost:8000", b"version two")
            assert answer.body == b"version two", kind
    finally:
        for proc in servers.values():
            stop(proc)
