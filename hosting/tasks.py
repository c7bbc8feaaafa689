"""Celery entry points for serving: edge sync, edge bandwidth, blob garbage collection.

Thin and idempotent; each calls one function that does the work. Periodic runs are added to
the beat schedule here.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from controlpanel.celery import app

log = logging.getLogger(__name__)


FULL_SYNC_OWED = "hosting:edge-full-sync-owed"


@shared_task(name="hosting.edge_sync", ignore_result=True)
def edge_sync_task(site_id: str | None = None) -> dict | None:
    """Render the edge config and materialise live trees (no-op unless EDGE_ENABLED).

    Given the site that changed, first try the fast path: when the change is a switch of its
    live deployment (same rules), only its symlink is swapped, and one full sync is queued to
    run a little later (one for a burst of switches: the worker stays free for the next)."""
    if not settings.EDGE_ENABLED:
        return None
    from django.core.cache import cache

    from hosting.serving.edge import FULL_SYNC_AFTER_SWITCH, edge_switch, edge_sync

    if site_id and edge_switch(site_id):
        # Expires on its own should the queued sync be lost; the periodic one covers that.
        if cache.add(FULL_SYNC_OWED, True, timeout=FULL_SYNC_AFTER_SWITCH + 60):
            edge_sync_task.apply_async(countdown=FULL_SYNC_AFTER_SWITCH)
        return {"switched": site_id}
    cache.delete(FULL_SYNC_OWED)  # a switch from now on owes another
    result = edge_sync()
    return {
        "trees_built": result.trees_built,
        "links_swapped": result.links_swapped,
        "reloaded": result.reloaded,
        "pruned": result.pruned,
    }


@shared_task(name="hosting.edge_bandwidth", ignore_result=True)
def edge_bandwidth_task() -> int:
    """Add what the edge served (its access log since the last read) to SiteBandwidth."""
    if not settings.EDGE_ENABLED:
        return 0
    from hosting.serving.bandwidth import access_log_read
    from hosting.serving.edge import edge_access_log

    return access_log_read(edge_access_log())


@shared_task(name="hosting.collect_blobs", ignore_result=True)
def collect_blobs_task() -> dict:
    """Delete manifests and blobs no deployment references, older than BLOB_GC_GRACE_HOURS."""
    from deployments.services import blobs_collect_garbage

    manifests, blobs = blobs_collect_garbage(grace=timedelta(hours=settings.BLOB_GC_GRACE_HOURS))
    if manifests or blobs:
        log.info("Collected %d manifests and %d blobs", manifests, blobs)
    return {"manifests": manifests, "blobs": blobs}


app.conf.beat_schedule.update(
    {
        "hosting-edge-sync": {"task": "hosting.edge_sync", "schedule": settings.EDGE_SYNC_INTERVAL},
        "hosting-edge-bandwidth": {
            "task": "hosting.edge_bandwidth",
            "schedule": settings.EDGE_LOG_INTERVAL,
        },
        "hosting-collect-blobs": {
            "task": "hosting.collect_blobs",
            "schedule": settings.BLOB_GC_INTERVAL,
        },
    }
)
