"""Rate limits: auth 5/min per IP, general 100/min per user, shared across processes via Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def login(client, ip="198.51.100.7"):
    return client.post(
        "/api/auth/login",
        {"email": "x@example.com", "password": "nope"},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_auth_endpoints_allow_five_a_minute_per_ip(anon_api):
    assert [login(anon_api).status_code for _ in range(5)] == [401] * 5
    blocked = login(anon_api)
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 0 < int(blocked["Retry-After"]) <= 60
    # Another address is counted on its own.
    assert login(anon_api, ip="198.51.100.8").status_code == 401
    # Sign-up shares the auth budget of the address.
    signup = anon_api.post("/api/auth/signup", {}, format="json", REMOTE_ADDR="198.51.100.7")
    assert signup.status_code == 429


def test_general_limit_is_per_user(api, bob):
    from conftest import bearer_client

    for _ in range(100):
        api.get("/api/auth/session")
    assert api.get("/api/auth/session").status_code == 429
    assert bearer_client(bob).get("/api/auth/session").status_code == 200


def _db_url() -> str:
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the cross-process test needs a shared database server")
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_limits_hold_across_processes_sharing_redis(anon_api, redis_url, settings):
    """Three attempts in another process and two here: the sixth from the address is refused."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    script = (
        "import django, json; django.setup();"
        "from rest_framework.test import APIClient;"
        "c = APIClient();"
        "codes = [c.post('/api/auth/login', {'email': 'x@example.com', 'password': 'nope'},"
        " format='json', REMOTE_ADDR='198.51.100.7').status_code for _ in range(3)];"
        "print(json.dumps(codes))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "controlpanel.settings",
        "DATABASE_URL": _db_url(),
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": prefix,
        "BERTH_READ_DOTENV": "0",
        "ALLOWED_HOSTS": "testserver",
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [401, 401, 401]
    assert [login(anon_api).status_code for _ in range(2)] == [401, 401]
    assert login(anon_api).status_code == 429
