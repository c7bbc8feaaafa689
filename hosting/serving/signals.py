"""Who hears about changes: this process's site server, other processes, and the edge.

A deployment switch (``live_deployment_changed``), a change of routes (``hostnames_changed``)
and any saved or deleted Site (slug, status) publish the site's id on the change feed; every
serving process drops what it knew about the site on its next request. With the edge enabled,
an edge sync is queued too (unless ``EDGE_WATCHER``: ``edge_sync --watch`` reads the
feed), naming the site (the signals are sent after commit): a switch
of its live deployment is then a symlink swap (``edge.edge_switch``), the rest a full sync.
"""

from __future__ import annotations

import logging
import weakref

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from hosting.serving import changes

log = logging.getLogger(__name__)

# Site servers of this process, told directly (they also read the feed).
_local_caches: weakref.WeakSet = weakref.WeakSet()


def register_cache(cache) -> None:
    _local_caches.add(cache)


def site_changed(site_id=None) -> None:
    for cache in list(_local_caches):
        cache.forget_threadsafe(site_id)
    changes.publish(site_id)
    if settings.EDGE_ENABLED and not settings.EDGE_WATCHER:  # else the watcher follows the feed
        from hosting.tasks import edge_sync_task

        try:
            edge_sync_task.delay(str(site_id) if site_id else None)
        except Exception:  # the broker is down: the periodic sync catches up
            log.warning("Could not queue an edge sync", exc_info=True)


def _on_live_deployment(sender, site_id=None, **kwargs) -> None:
    site_changed(site_id)


def _on_hostnames(sender, site_id=None, **kwargs) -> None:
    site_changed(site_id)


# Saving only these fields cannot change how a site is served (usage counters, names).
_IRRELEVANT = {"storage_used", "name", "updated_at", "status_message", "storage_limit"}


def _on_site_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields and set(update_fields) <= _IRRELEVANT:
        return
    transaction.on_commit(lambda: site_changed(instance.pk))


def connect() -> None:
    from deployments.signals import live_deployment_changed
    from hosting.hostnames import hostnames_changed
    from hosting.models import Site

    live_deployment_changed.connect(_on_live_deployment, dispatch_uid="serving-live")
    hostnames_changed.connect(_on_hostnames, dispatch_uid="serving-hostnames")
    post_save.connect(_on_site_saved, sender=Site, dispatch_uid="serving-site-saved")
    post_delete.connect(_on_site_saved, sender=Site, dispatch_uid="serving-site-deleted")
