"""``/health`` answers 200 when every component answers, 503 naming the one that does not."""

from __future__ import annotations

import pytest

from conftest import run_django


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
    result = run_django(
        "from django.test import Client\n"
        "r = Client().get('/health')\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere",
        BERTH_VAR_DIR=tmp_path,
        REDIS_URL=None,
    )
    assert result["status"] == 503
    assert result["body"]["failing"] == ["database"]
    assert "database" in result["body"]["message"]


@pytest.mark.django_db
def test_answers_uncached_json_and_survives_a_dropped_redis_connection(client, settings):
    """The check keeps a connection of its own; one Redis closed is opened again at once."""
    import redis
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from controlpanel.redis_direct import direct

    assert settings.REDIS_URL, "these tests need Redis (REDIS_URL)"
    response = client.get("/health")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    expected = HttpResponse()
    add_never_cache_headers(expected)
    assert response["Cache-Control"] == expected["Cache-Control"]
    assert response["Expires"] == expected["Expires"] or response.has_header("Expires")
    ping = direct(settings.REDIS_URL)
    own = redis.Redis.from_url(settings.REDIS_URL)
    ping.connection.send_command("CLIENT", "ID")
    connection_id = ping.connection.read_response()
    assert own.execute_command("CLIENT", "KILL", "ID", connection_id) == 1  # only this one
    answer = client.get("/health").json()
    assert answer["components"]["redis"]["status"] == "up", answer
