"""Rate limits: auth 5/min per IP, general 100/min per user, shared across processes via Redis."""

from __future__ import annotations

import pytest
from django.db import connection

from conftest import run_django

pytestmark = pytest.mark.django_db


def login(client, ip="198.51.100.7", email="x@example.com"):
    return client.post(
        "/api/auth/login",
        {"email": email, "password": "nope"},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_auth_endpoints_allow_five_a_minute_per_ip(anon_api):
    assert [login(anon_api).status_code for _ in range(5)] == [401] * 5
    blocked = login(anon_api)
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert 0 < int(blocked["Retry-After"]) <= 60
    # Another address is counted on its own (for another account: the account's own failures
    # are limited wherever they come from, see test_forged_addresses.py).
    assert login(anon_api, ip="198.51.100.8", email="y@example.com").status_code == 401
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


# Transactional: the other process commits its failed sign-ins; the flush afterwards removes them.
@pytest.mark.django_db(transaction=True)
def test_limits_hold_across_processes_sharing_redis(anon_api, redis_url, settings):
    """Three attempts in another process and two here: the sixth from the address is refused."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    codes = run_django(
        "from rest_framework.test import APIClient\n"
        "c = APIClient()\n"
        "print(json.dumps([c.post('/api/auth/login', {'email': 'x@example.com', 'password': 'no'},"
        " format='json', REMOTE_ADDR='198.51.100.7').status_code for _ in range(3)]))",
        DATABASE_URL=_db_url(),
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=prefix,
    )
    assert codes == [401, 401, 401]
    assert [login(anon_api).status_code for _ in range(2)] == [401, 401]
    assert login(anon_api).status_code == 429


def test_the_limit_loads_its_script_when_redis_does_not_know_it(api, monkeypatch):
    """A Redis that restarted (or never ran the script) answers NOSCRIPT: it is loaded then."""
    import hashlib
    import secrets

    from controlpanel.api import throttling

    script = f"{throttling.SLIDING_LOG}-- {secrets.token_hex(8)}\n"  # unknown to Redis
    monkeypatch.setattr(throttling, "SLIDING_LOG", script)
    monkeypatch.setattr(throttling, "SLIDING_LOG_SHA", hashlib.sha1(script.encode()).hexdigest())  # noqa: S324
    assert api.get("/api/auth/session").status_code == 200
    assert api.get("/api/auth/session").status_code == 200
