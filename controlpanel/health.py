"""``GET /health``: 200 when every component answers, 503 naming the ones that do not."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure means the component is down
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "up", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


def _database():
    connection = connections["default"]
    if (
        connection.connection is not None
        and connection.health_check_enabled
        and not connection.health_check_done
    ):
        # A connection kept from an earlier request: Django's own health check (one round
        # trip) is the check; it closes the connection when the server does not answer.
        connection.close_if_health_check_failed()
        if connection.connection is not None:
            return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


_redis_clients: dict[str, object] = {}
_redis_lock = threading.Lock()


def _redis_client(url: str):
    """One client (and connection pool) per URL for the process: a new client per call would
    open a new connection per call. A dropped connection is replaced by the pool."""
    client = _redis_clients.get(url)
    if client is None:
        import redis

        with _redis_lock:
            client = _redis_clients.get(url)
            if client is None:
                client = redis.Redis.from_url(
                    url, socket_connect_timeout=2, socket_timeout=2, retry_on_timeout=False
                )
                _redis_clients[url] = client
    return client


def _redis():
    _redis_client(settings.REDIS_URL).ping()


def component_checks() -> dict:
    checks = {"database": _database}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    return checks


@never_cache
@require_GET
def health(request):
    components = {name: _timed(check) for name, check in component_checks().items()}
    failing = [name for name, state in components.items() if state["status"] != "up"]
    body = {
        "status": "unavailable" if failing else "ok",
        "components": components,
        "failing": failing,
    }
    if failing:
        body["message"] = "Not answering: " + ", ".join(failing)
    return JsonResponse(body, status=503 if failing else 200)
