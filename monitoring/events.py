"""The status stream's events (the Autostack client's ``service_update`` and ``metrics_update``).

Stored first, then broadcast on commit to the one public group; the consumer also reads the
stored state itself, so a dropped message only delays an update.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from controlpanel.events import group_send_on_commit

STATUS_GROUP = "status"
BARS_HTML_KEY = "monitoring:bars-html:90"
# Cached figures a new check makes stale: 90-day uptimes and bars, the page's bars.
CACHED_FIGURES = ["monitoring:uptimes:90", "monitoring:bars:90", BARS_HTML_KEY]


def service_status(service, uptime: float | None) -> dict:
    """A service as ``GET /api/status/services`` lists it."""
    return {
        "name": service.name,
        "slug": service.slug,
        "status": service.status,
        "uptime": uptime,
        "responseTime": service.response_time_ms,
        "message": service.message,
        "lastCheckedAt": service.last_checked_at.isoformat() if service.last_checked_at else None,
    }


def service_update_event(row: dict) -> dict:
    """The stream's event for a row of ``service_status``."""
    return {"type": "service_update", "service": row["name"], **row}


def publish_status_changed() -> None:
    """Forget the cached figures and tell every status-stream consumer to read the stored
    state now (after the transaction commits)."""
    transaction.on_commit(lambda: cache.delete_many(CACHED_FIGURES))
    group_send_on_commit(STATUS_GROUP, {"type": "status.changed"})
