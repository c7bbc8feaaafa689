"""``GET /health``: 200 when every component answers, 503 naming the ones that do not."""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_GET

from controlpanel.redis_direct import direct


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


# PING as Redis's protocol spells it, packed once.
_PING = [b"*1\r\n$4\r\nPING\r\n"]


def _redis():
    # On a connection of the check's own, past redis-py's client path (controlpanel.redis_direct).
    reply = direct(settings.REDIS_URL).command(packed=_PING)
    if reply not in (b"PONG", "PONG", True):
        raise RuntimeError(f"Redis answered {reply!r} to PING")


def component_checks() -> dict:
    checks = {"database": _database}
    if settings.REDIS_URL:
        checks["redis"] = _redis
    return checks


# What ``never_cache`` sets on a response that has no caching headers of its own, written
# directly (its header parsing and patching cost as much as a check).
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


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
    response = HttpResponse(
        json.dumps(body),
        content_type="application/json",
        status=503 if failing else 200,
    )
    response.headers["Expires"] = http_date(time.time())
    response.headers["Cache-Control"] = NEVER_CACHE
    return response
