"""The status stream's events (the Autostack client's ``service_update`` and ``metrics_update``).

Stored first, then broadcast on commit to the one public group; the consumer also reads the
stored state itself, so a dropped message only delays an update.
"""

from __future__ import annotations

from controlpanel.events import group_send_on_commit

STATUS_GROUP = "status"


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
    """Tell every status-stream consumer to read the stored state now."""
    group_send_on_commit(STATUS_GROUP, {"type": "status.changed"})
