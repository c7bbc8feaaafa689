"""``/health`` answers 200 when every component answers, 503 naming the one that does not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthy(client, settings):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert body["components"]["database"]["status"] == "up"
    assert ("redis" in body["components"]) == bool(settings.REDIS_URL)


@pytest.mark.django_db
def test_redis_down_is_503_naming_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["components"]["database"]["status"] == "up"
    assert body["components"]["redis"]["status"] == "down"


def test_database_down_is_503_naming_the_database(tmp_path):
    """A real process whose PostgreSQL does not answer."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/health');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlpanel.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
        "BERTH_VAR_DIR": str(tmp_path),
        "BERTH_READ_DOTENV": "0",
        "ALLOWED_HOSTS": "testserver",
    }
    env.pop("REDIS_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == 503
    assert result["body"]["failing"] == ["database"]
    assert "database" in result["body"]["message"]
