"""What the site server knows, loaded from the database once and kept in memory.

Three layers, so a request in the steady state costs no query:
- host -> route (``hosting.hostnames.route_for_host``), misses included;
- site -> (status, live deployment), dropped when the change feed names the site;
- deployment -> Release (files and compiled rules): immutable, kept in an LRU by id.
Routes and site states also expire after ``SERVING_CACHE_TTL`` seconds, a safety net for a
change made without a signal. Loads run in a worker thread (never on the event loop); a load
that raced with an invalidation is used once but not kept.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

from asgiref.sync import sync_to_async
from django.conf import settings

from hosting.serving import changes
from hosting.serving.resolve import RULE_FILES, FileEntry, Release
from hosting.serving.rules import Parsed, parse_headers, parse_redirects

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SiteState:
    site_id: UUID
    status: str
    deployment_id: UUID | None
    kind: str = "static"
    # The secret of its protected previews (hosting.preview_lock); empty when they are open.
    preview_lock: str = ""
    rate_limit: int | None = None  # bytes a second per response (bandwidth overage)


def load_route(host: str):
    from hosting.hostnames import route_for_host

    return route_for_host(host)


def load_site(site_id: UUID) -> SiteState | None:
    from hosting.models import Site

    row = (
        Site.objects.filter(pk=site_id)
        .values_list(
            "status",
            "live_deployment_id",
            "team__subscription__status",
            "kind",
            "team__suspended_at",
            "preview_protection",
            "preview_secret",
            "rate_limit",
        )
        .first()
    )
    if row is None:
        return None
    lock = row[6] if row[5] != "off" else ""
    status = serving_status(row[0], row[2], row[4])
    return SiteState(site_id, status, row[1], row[3], lock, rate_limit=row[7])


def serving_status(site_status: str, subscription_status: str | None, team_suspended_at) -> str:
    """What serving does with a site: its own status, or "suspended" while its team is
    suspended for an unpaid bill (billing) or by an operator (operators); the data is kept."""
    if subscription_status == SUSPENDED or team_suspended_at is not None:
        return SUSPENDED
    return site_status


SUSPENDED = "suspended"
UNSERVED = ("offline", "error", SUSPENDED)


def load_release(deployment_id: UUID) -> Release | None:
    """A deployment's files (with each blob's first-publish time) and its parsed rules."""
    from deployments.blobs import BlobStore
    from deployments.models import Deployment, ManifestEntry

    manifest_id = (
        Deployment.objects.filter(pk=deployment_id).values_list("manifest_id", flat=True).first()
    )
    if manifest_id is None:
        return None
    rows = ManifestEntry.objects.filter(manifest_id=manifest_id).values_list(
        "path", "blob_id", "size", "blob__created_at", "blob__gzip_size", "blob__brotli_size"
    )
    files: dict[str, FileEntry] = {}
    rule_digests: dict[str, str] = {}
    for path, digest, size, created, gz, br in rows.iterator(chunk_size=2000):
        if path in RULE_FILES:
            rule_digests[path] = digest
            continue
        files[path] = FileEntry(digest, size, int(created.timestamp()), gz, br)
    parsed = Parsed()
    store = BlobStore()
    for name, parse in (("_redirects", parse_redirects), ("_headers", parse_headers)):
        if name in rule_digests:
            text = store.read(rule_digests[name]).decode("utf-8", "replace")
            parse(text, parsed)
    return Release(deployment_id, files, parsed.redirects, parsed.headers, parsed.problems)


class Missing:
    """A cached "no such thing" (an unknown host)."""


MISSING = Missing()
UNKNOWN = object()  # not in memory (or expired): load it


class ServingCache:
    def __init__(self, watcher: changes.Watcher | None = None):
        self.watcher = watcher
        self.ttl = settings.SERVING_CACHE_TTL
        self.hosts: OrderedDict[str, tuple[object, float]] = OrderedDict()
        self.sites: dict[UUID, tuple[SiteState | Missing, float]] = {}
        self.releases: OrderedDict[UUID, Release] = OrderedDict()
        self.max_hosts = 20_000
        self.max_releases = settings.SERVING_RELEASE_CACHE
        self.epoch = 0  # bumped by every invalidation: a load that saw an older one is not kept
        self._inflight: dict[tuple, asyncio.Future] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    # --- invalidation ---------------------------------------------------------------------
    def refresh(self, now: float) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if self.watcher is not None and self.watcher.due(now):
            for site_id in self.watcher.poll(now):
                self.forget(site_id)

    def forget_threadsafe(self, site_id=None) -> None:
        """``forget`` from any thread (signal handlers run in Django's threads)."""
        loop = self.loop
        if loop is not None and loop.is_running():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self.forget, site_id)
                return
        self.forget(site_id)

    def forget(self, site_id=None) -> None:
        """Drop what is known about a site (and every unknown host), or about everything."""
        self.epoch += 1
        if site_id in (None, changes.EVERYTHING):
            self.hosts.clear()
            self.sites.clear()
            return
        try:
            site_id = UUID(str(site_id))
        except ValueError:
            return
        self.sites.pop(site_id, None)
        for host, (route, _) in list(self.hosts.items()):
            if route is MISSING or getattr(route, "site_id", None) == site_id:
                self.hosts.pop(host, None)

    # --- lookups ---------------------------------------------------------------------------
    async def _load(self, key: tuple, func, *args):
        """Run a blocking load in a thread, once for concurrent requests of the same key."""
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await sync_to_async(func, thread_sensitive=False)(*args)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    # The ``known_*`` look-ups answer from memory without a coroutine (the steady state of a
    # request), or UNKNOWN when the awaitable one must load.
    def known_route(self, hostname: str, now: float):
        cached = self.hosts.get(hostname)
        if cached is not None and now - cached[1] < self.ttl:
            return None if cached[0] is MISSING else cached[0]
        return UNKNOWN

    def known_site(self, site_id: UUID, now: float):
        cached = self.sites.get(site_id)
        if cached is not None and now - cached[1] < self.ttl:
            return None if cached[0] is MISSING else cached[0]
        return UNKNOWN

    def known_release(self, deployment_id: UUID):
        release = self.releases.get(deployment_id)
        if release is None:
            return UNKNOWN
        self.releases.move_to_end(deployment_id)
        return release

    async def route(self, hostname: str, now: float):
        known = self.known_route(hostname, now)
        if known is not UNKNOWN:
            return known
        epoch = self.epoch
        route = await self._load(("host", hostname), load_route, hostname)
        if epoch == self.epoch:
            self.hosts[hostname] = (MISSING if route is None else route, now)
            self.hosts.move_to_end(hostname)
            while len(self.hosts) > self.max_hosts:
                self.hosts.popitem(last=False)
        return route

    async def site(self, site_id: UUID, now: float) -> SiteState | None:
        known = self.known_site(site_id, now)
        if known is not UNKNOWN:
            return known
        epoch = self.epoch
        state = await self._load(("site", site_id), load_site, site_id)
        if epoch == self.epoch:
            self.sites[site_id] = (MISSING if state is None else state, now)
        return state

    async def release(self, deployment_id: UUID) -> Release | None:
        known = self.known_release(deployment_id)
        if known is not UNKNOWN:
            return known
        release = await self._load(("release", deployment_id), load_release, deployment_id)
        if release is not None:
            if release.problems:
                log.info("Deployment %s rules: %s", deployment_id, "; ".join(release.problems))
            self.releases[deployment_id] = release
            while len(self.releases) > self.max_releases:
                self.releases.popitem(last=False)
        return release


def monotonic() -> float:
    return time.monotonic()
