"""``GET /health``: 200 when every component answers, 503 naming the ones that do not."""

from __future__ import annotations

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
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


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
