"""The embedded site server: a framework-free ASGI app placed before Django.

``HostRouter`` sends a request whose Host is a site hostname (``<slug>.<SITES_DOMAIN>`` or one a
route provider knows) to ``SiteServer`` and everything else to Django. The site server answers
as the nginx edge does (see ``hosting.serving.http``), from the deployment manifest in memory
and the blob files on disk (or in object storage).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime
from http.cookies import CookieError, SimpleCookie
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.signals import setting_changed

from deployments.blobs import BlobStore
from hosting import preview_lock
from hosting.hostnames import normalise_host, slug_from_host
from hosting.serving import changes
from hosting.serving import http as h
from hosting.serving.bandwidth import Counter
from hosting.serving.resolve import (
    NOT_FOUND,
    FileEntry,
    Redirect_,
    Release,
    local_blob_path,
    normalise_path,
    not_found_page,
    resolve,
)
from hosting.serving.store import SUSPENDED, UNKNOWN, UNSERVED, ServingCache
from hosting.serving.throttle import Throttled
from wordpress.serving import serve as serve_wordpress

log = logging.getLogger(__name__)

ACME_PREFIX = "/.well-known/acme-challenge/"
CHUNK = 256 * 1024
HTML = "text/html; charset=utf-8"


class BlobReader:
    """Blob contents: small ones from memory, the rest streamed from disk or storage."""

    def __init__(self, max_item: int, max_total: int):
        self.store = BlobStore()
        self.local = None
        self.max_item, self.max_total = max_item, max_total
        self.memory: OrderedDict[str, bytes] = OrderedDict()
        self.total = 0

    def _is_local(self) -> bool:
        if self.local is None:
            self.local = local_blob_path(self.store, "0" * 64) is not None
        return self.local

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > self.max_item:
            return
        self.memory[key] = data
        self.total += len(data)
        while self.total > self.max_total and self.memory:
            _, old = self.memory.popitem(last=False)
            self.total -= len(old)

    def held(self, key: str) -> bytes | None:
        """The blob ``digest + variant`` when it is in memory."""
        data = self.memory.get(key)
        if data is not None:
            self.memory.move_to_end(key)
        return data

    def _read_small(self, digest: str, variant: str) -> bytes:
        return self.store.read(digest, variant)

    async def readable(self, digest: str, variant: str, size: int) -> bool:
        """Whether the blob is there whole, checked before any header is sent: a missing or
        short blob must answer 500 at once, never a response that stops half way."""
        if digest + variant in self.memory:
            return True
        if self._is_local():
            try:
                stat = os.stat(self.store.local_path(digest, variant))
            except OSError:
                return False
            readable = os.access(self.store.local_path(digest, variant), os.R_OK)
            return readable and stat.st_size == size
        return await sync_to_async(self.store.exists, thread_sensitive=False)(digest, variant)

    async def send(self, send, digest: str, variant: str, size: int, start: int, end: int):
        key = digest + variant
        data = self.memory.get(key)
        if data is None and size <= self.max_item:
            if self._is_local():
                with open(self.store.local_path(digest, variant), "rb") as handle:
                    data = handle.read()
            else:
                data = await sync_to_async(self._read_small, thread_sensitive=False)(
                    digest, variant
                )
            self._remember(key, data)
        if data is not None:
            self.memory.move_to_end(key)
            await send({"type": "http.response.body", "body": data[start:end]})
            return
        remaining = end - start
        async for chunk in self._read_range(digest, variant, start, end):
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
        if remaining > 0:  # the blob was shorter than its manifest said: end the body anyway
            await send({"type": "http.response.body", "body": b""})

    async def _read_range(self, digest: str, variant: str, start: int, end: int):
        """Bytes ``start``..``end`` of a blob in chunks: local disk inline, object storage in a
        thread."""
        if self._is_local():
            # Page-cache reads of 256 KiB take microseconds; a thread per chunk costs more.
            with open(self.store.local_path(digest, variant), "rb") as handle:
                handle.seek(start)
                remaining = end - start
                while remaining > 0 and (chunk := handle.read(min(CHUNK, remaining))):
                    remaining -= len(chunk)
                    yield chunk
            return
        handle = await sync_to_async(self.store.open, thread_sensitive=False)(digest, variant)
        read = sync_to_async(handle.read, thread_sensitive=False)
        try:
            await sync_to_async(handle.seek, thread_sensitive=False)(start)
            remaining = end - start
            while remaining > 0 and (chunk := await read(min(CHUNK, remaining))):
                remaining -= len(chunk)
                yield chunk
        finally:
            await sync_to_async(handle.close, thread_sensitive=False)()


def _headers(scope) -> dict[bytes, bytes]:
    # Later duplicates win, as for the headers nginx reads singly (Host, Range, If-*).
    return dict(scope["headers"])


def _variant(release: Release, path: str, entry: FileEntry, suffix: str):
    """(digest, storage variant, size, mtime) of ``path`` + ``.gz``/``.br`` as nginx finds it."""
    own = release.files.get(path + suffix)
    if own is not None:  # a file of that name in the deployment is what nginx would send
        return own.digest, "", own.size, own.mtime
    size = entry.gzip_size if suffix == ".gz" else entry.brotli_size
    if size is not None:
        return entry.digest, suffix, size, entry.mtime
    return None


class _StatusSeen:
    """A ``send`` that remembers the status it passed on, for the traffic counts."""

    __slots__ = ("send", "status")

    def __init__(self, send):
        self.send, self.status = send, 0

    async def __call__(self, message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)


def _no_access_line(send) -> None:
    """uvicorn writes an access line for every response, which costs a small page about as
    much as the site server and uvicorn's HTTP together (measured, docs/performance.md); a
    site's requests are counted by the site server instead (traffic, analytics). Panel
    requests keep their line. Other servers (daphne) are left as they are."""
    cycle = getattr(send, "__self__", None)
    if getattr(cycle, "access_log", None) is True:
        cycle.access_log = False


def _page_headers(body: bytes, cache, extra=()) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", HTML.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"etag", h.etag(h.PAGE_MTIME, len(body)).encode()),
        *extra,
    ]
    if cache:
        headers.append((b"cache-control", cache.encode()))
    return headers


@dataclass(frozen=True, slots=True)
class Fixed:
    """A whole answer decided by the path alone: a redirect, a bad path, Berth's 404 page."""

    status: int
    headers: list
    body: bytes


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """A file of a release as its path and the client's Accept-Encoding decide it; the
    method and the request's conditions (If-*, Range) are applied to it per request."""

    path: str  # the manifest path served
    status: int
    digest: str
    variant: str  # "", ".gz" or ".br": the stored form sent
    size: int
    mtime: int
    tag: str
    encoding: bytes | None
    vary: bool
    own_cache: bool  # a ``_headers`` rule sets Cache-Control
    tail: list  # the ``_headers`` rules' headers, sent last
    headers: list  # the whole file's response headers (no range, no condition)

    @property
    def blob(self) -> str:
        return self.digest + self.variant


def _file_headers(answer: FileAnswer, status: int, ranged=None) -> list[tuple[bytes, bytes]]:
    """The file's response headers in nginx's order, for its whole body or for ``ranged``."""
    headers = [(b"content-type", h.type_for(answer.path).encode())]
    start, end = (ranged.start, ranged.end) if ranged is not None else (0, answer.size)
    if answer.status == 200:
        headers.append((b"last-modified", h.http_date(answer.mtime).encode()))
        if ranged is not None:
            headers.append((b"content-range", f"bytes {start}-{end - 1}/{answer.size}".encode()))
        elif answer.encoding is None:
            headers.append((b"accept-ranges", b"bytes"))
    headers.append((b"content-length", str(end - start).encode()))
    headers.append((b"etag", answer.tag.encode()))
    if answer.encoding:
        headers.append((b"content-encoding", answer.encoding))
    if answer.vary:
        headers.append((b"vary", b"Accept-Encoding"))
    if not answer.own_cache:
        headers.append((b"cache-control", h.cache_control(status, answer.path).encode()))
    return headers + answer.tail


def _short(status: int, own_cache: bool, tail: list, extra=()) -> Fixed:
    """nginx's own page for a status, with the ``_headers`` rules' headers."""
    body = h.nginx_page(status)
    headers = [
        (b"content-type", b"text/html"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    if not own_cache:
        headers.append((b"cache-control", h.CACHE_REVALIDATE.encode()))
    return Fixed(status, headers + tail, body)


def answer_for(release: Release, raw_path: str, query: str, accept: str, http_version: str):
    """What a path of a release answers (``Fixed`` or ``FileAnswer``) to a GET, for a client
    accepting ``accept``; the same for every such request, so the server keeps it."""
    path = normalise_path(raw_path)
    if path is None:
        body = h.nginx_page(400)
        headers = [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]
        return Fixed(400, headers, body)
    outcome = resolve(release, path, query)
    extra, own_cache = release.extra_headers(path)
    tail = [(n.encode(), v.encode()) for n, v in extra]
    if isinstance(outcome, Redirect_):
        location = [(b"location", outcome.location.encode())]
        return _short(outcome.status, own_cache, tail, location)
    if outcome is NOT_FOUND:
        outcome = not_found_page(release)
        if outcome is None:
            cache = None if own_cache else h.CACHE_REVALIDATE
            return Fixed(404, _page_headers(h.own_page(404), cache, tail), h.own_page(404))
    entry = outcome.entry
    chosen = (entry.digest, "", entry.size, entry.mtime)
    encoding, vary = None, False
    gz = _variant(release, outcome.path, entry, ".gz")
    if gz is not None:
        vary = True
    if accept:
        br = _variant(release, outcome.path, entry, ".br") if h.accepts_brotli(accept) else None
        if br is not None:
            chosen, encoding, vary = br, b"br", True
        elif gz is not None and h.accepts_gzip(accept, http_version):
            chosen, encoding = gz, b"gzip"
    digest, variant, size, mtime = chosen
    answer = FileAnswer(
        outcome.path, outcome.status, digest, variant, size, mtime, h.etag(mtime, size),
        encoding, vary, own_cache, tail, [],
    )  # fmt: skip
    answer.headers.extend(_file_headers(answer, answer.status))
    return answer


ANSWERS_KEPT = 10_000  # a few hundred bytes each
GET_HEAD = ("GET", "HEAD")


class SiteServer:
    def __init__(self):
        from hosting.serving.signals import register_cache

        self.cache = ServingCache(changes.Watcher())
        register_cache(self.cache)
        self.blobs = BlobReader(
            settings.SERVING_MEMORY_ITEM_MAX, settings.SERVING_MEMORY_CACHE_BYTES
        )
        self.counter = Counter()
        self.flush_interval = settings.SERVING_BANDWIDTH_FLUSH
        self.flushed = time.monotonic()
        self.flushing = False
        self.damaged: set[tuple] = set()
        self.day, self.day_ends = None, 0.0
        # (deployment, path, query, Accept-Encoding, HTTP version) -> what it answers; a
        # deployment never changes, so neither does this.
        self.answers: dict[tuple, Fixed | FileAnswer] = {}

    # --- bandwidth --------------------------------------------------------------------------
    def _today(self):
        """Today's date (UTC), worked out again only when the day is over."""
        wall = time.time()
        if wall >= self.day_ends:
            self.day = datetime.now(UTC).date()
            self.day_ends = datetime.combine(self.day, dtime.max, UTC).timestamp()
        return self.day

    def _count(self, site_id, sent: int, status: int, path: str, now: float) -> None:
        self.counter.count(site_id, self._today(), sent, status, path)
        if not self.flushing and now - self.flushed >= self.flush_interval:
            self.flushing, self.flushed = True, now
            self._flush_task = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        try:
            await sync_to_async(self.counter.flush, thread_sensitive=False)()
        finally:
            self.flushing = False

    # --- answering --------------------------------------------------------------------------
    @staticmethod
    async def _respond(send, status, headers, body=b"", head=False) -> int:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})
        return 0 if head else len(body)

    async def _page(self, send, status, body, cache, head, extra=()) -> int:
        return await self._respond(send, status, _page_headers(body, cache, extra), body, head)

    async def __call__(self, scope, receive, send):
        hdrs = _headers(scope)
        hostname = normalise_host(hdrs.get(b"host", b"").decode("latin-1"))
        await self.serve(scope, receive, send, hdrs, hostname)

    async def serve(self, scope, receive, send, hdrs: dict, hostname: str) -> None:
        """Answer a request for ``hostname`` (normalised); ``hdrs``: its headers as a dict."""
        _no_access_line(send)
        now = time.monotonic()
        self.cache.refresh(now)
        method = scope["method"]
        head = method == "HEAD"
        cache = self.cache
        route = cache.known_route(hostname, now)
        if route is UNKNOWN:
            route = await cache.route(hostname, now)
        if route is None:
            await self._page(send, 404, h.own_page(404), h.CACHE_NO_STORE, head)
            return
        if route.redirect_to:
            target = route.redirect_to
            port = hdrs.get(b"host", b"").decode("latin-1").rpartition(":")
            if port[1] and port[2].isdigit() and not hostname.startswith("["):
                target += ":" + port[2]
            raw = scope.get("raw_path") or scope["path"].encode()
            query = scope.get("query_string", b"")
            location = f"{scope.get('scheme', 'http')}://{target}".encode() + raw
            if query:
                location += b"?" + query
            body = h.nginx_page(301)
            await self._respond(
                send,
                301,
                [
                    (b"content-type", b"text/html"),
                    (b"content-length", str(len(body)).encode()),
                    (b"location", location),
                ],
                body,
                head,
            )
            return
        path = scope["path"]
        if path.startswith(ACME_PREFIX):
            token = path[len(ACME_PREFIX) :]
            answer = await sync_to_async(_acme, thread_sensitive=False)(token)
            if answer is not None:
                body = answer.encode()
                await self._respond(
                    send,
                    200,
                    [
                        (b"content-type", b"text/plain"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                    body,
                    head,
                )
                return
        state = cache.known_site(route.site_id, now)
        if state is UNKNOWN:
            state = await cache.site(route.site_id, now)
        if state is None:
            await self._page(send, 404, h.own_page(404), h.CACHE_NO_STORE, head)
            return
        if state.rate_limit:  # over its bandwidth on a plan that slows it down
            send = Throttled(send, state.rate_limit)
        if state.status in UNSERVED:
            page = h.own_page(state.status if state.status == SUSPENDED else 503)
            sent = await self._page(send, 503, page, h.CACHE_NO_STORE, head)
            self._count(state.site_id, sent, 503, path, now)
            return
        if state.kind == "wordpress":  # PHP through the site's pool (wordpress/serving.py)
            answered = _StatusSeen(send)
            if state.status != "online":  # provisioning or stopped
                sent = await self._page(answered, 503, h.own_page(503), h.CACHE_NO_STORE, head)
            else:
                sent = await serve_wordpress(
                    scope, receive, answered, site_id=state.site_id, hostname=hostname
                )
            self._count(state.site_id, sent, answered.status, path, now)
            return
        locked = route.deployment_id and state.preview_lock  # a protected preview address
        if locked and await self._locked(scope, hdrs, send, hostname, state.preview_lock, head):
            return
        deployment_id = route.deployment_id or state.deployment_id
        if deployment_id is None:
            await self._page(send, 404, h.own_page(404), h.CACHE_NO_STORE, head)
            return
        release = cache.known_release(deployment_id)
        if release is UNKNOWN:
            release = await cache.release(deployment_id)
        if release is None:
            await self._page(send, 404, h.own_page(404), h.CACHE_NO_STORE, head)
            return
        scope["berth.site"] = hostname  # named in the log if a stored file is damaged
        status, sent = await self._site(scope, hdrs, send, release, path, method, head)
        self._count(state.site_id, sent, status, path, now)

    async def _locked(self, scope, hdrs, send, hostname, secret, head) -> bool:
        """Answer for a protected preview unless the visitor's cookie opens it: the unlock
        link sets the cookie, anyone else goes to the panel's unlock page. True if answered."""
        raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        asked = raw + (f"?{query}" if query else "")
        if raw.startswith(preview_lock.UNLOCK_PREFIX):
            link = preview_lock.unlock_parse(asked)
            if link is None:
                await self._page(send, 404, h.own_page(404), h.CACHE_NO_STORE, head)
                return True
            sig, expires, target = link
            if not preview_lock.valid(hostname, sig, expires, secret):
                await self._page(send, 403, h.nginx_page(403), h.CACHE_NO_STORE, head)
                return True
            secure = scope.get("scheme") == "https"
            headers = [
                (b"set-cookie", c.encode())
                for c in preview_lock.cookie_headers(sig, expires, secure=secure)
            ]
            headers += [(b"location", target.encode()), (b"content-length", b"0")]
            headers.append((b"cache-control", h.CACHE_NO_STORE.encode()))
            await self._respond(send, 302, headers, b"", head)
            return True
        jar = SimpleCookie()
        with suppress(CookieError):
            jar.load(hdrs.get(b"cookie", b"").decode("latin-1"))
        sig = jar[preview_lock.COOKIE].value if preview_lock.COOKIE in jar else ""
        expires = jar.get(preview_lock.COOKIE_EXPIRES)
        if preview_lock.valid(hostname, sig, expires.value if expires else "", secret):
            return False
        location = preview_lock.panel_url(hostname, asked).encode()
        headers = [(b"location", location), (b"content-length", b"0")]
        headers.append((b"cache-control", h.CACHE_NO_STORE.encode()))
        await self._respond(send, 302, headers, b"", head)
        return True

    async def _site(self, scope, hdrs, send, release: Release, path, method, head):
        """(status, body bytes sent) of a request for ``path`` of ``release``."""
        accept = hdrs.get(b"accept-encoding", b"")
        query, version = scope.get("query_string", b""), scope.get("http_version", "1.1")
        key = (release.deployment_id, path, query, accept, version)
        answer = self.answers.get(key)
        if answer is None:
            answer = answer_for(
                release, path, query.decode("latin-1"), accept.decode("latin-1"), version
            )
            if len(self.answers) >= ANSWERS_KEPT:  # rarely: forget them all, start over
                self.answers.clear()
            self.answers[key] = answer
        if type(answer) is Fixed:
            return answer.status, await self._respond(
                send, answer.status, answer.headers, answer.body, head
            )
        if method not in GET_HEAD:  # the static module takes nothing else
            fixed = _short(405, answer.own_cache, answer.tail)
            return 405, await self._respond(send, 405, fixed.headers, fixed.body, head)
        return await self._file(hdrs, scope, send, release, answer, head)

    async def _file(self, hdrs, scope, send, release, answer: FileAnswer, head):
        status, headers = answer.status, answer.headers
        size = answer.size
        start, end = 0, size
        if status == 200:
            not_modified = self._not_modified(hdrs, answer.tag, answer.mtime)
            if not_modified is not None:
                return not_modified, await self._precondition(send, not_modified, answer, head)
            if answer.encoding is None and b"range" in hdrs:
                ranged = self._range(hdrs, answer.tag, answer.mtime, size)
                if ranged == h.NOT_SATISFIABLE:
                    fixed = _short(
                        416,
                        answer.own_cache,
                        answer.tail,
                        [(b"content-range", f"bytes */{size}".encode())],
                    )
                    # nginx runs its header filters twice for a 416: added headers appear twice.
                    headers = fixed.headers[:3] + fixed.headers[3:] + fixed.headers[3:]
                    return 416, await self._respond(send, 416, headers, fixed.body, head)
                if ranged is not None:
                    status, start, end = 206, ranged.start, ranged.end
                    headers = _file_headers(answer, 206, ranged)
        digest, variant = answer.digest, answer.variant
        data = self.blobs.held(answer.blob)
        if data is None and not await self.blobs.readable(digest, variant, size):
            await self._damaged(scope, release, answer.path, answer.blob)
            sent = await self._page(send, 500, h.own_page(500), h.CACHE_NO_STORE, head)
            return 500, sent
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return status, 0
        if data is not None:
            await send({"type": "http.response.body", "body": data[start:end]})
            return status, end - start
        try:
            await self.blobs.send(send, digest, variant, size, start, end)
        except OSError:  # vanished after the check: end the response rather than hang it
            await self._damaged(scope, release, answer.path, answer.blob)
            await send({"type": "http.response.body", "body": b""})
        return status, end - start

    async def _damaged(self, scope, release: Release, path: str, blob: str) -> None:
        """Log a missing or unreadable blob once per release and file, and mark the release
        damaged so its site's page asks for a redeploy."""
        key = (release.deployment_id, path)
        if key in self.damaged:
            return
        self.damaged.add(key)
        from deployments.services import deployment_mark_damaged

        await sync_to_async(deployment_mark_damaged, thread_sensitive=False)(
            deployment_id=release.deployment_id, path=path
        )
        log.error(
            "Damaged release %s of site %s: the stored contents of /%s (blob %s) are missing "
            "or unreadable; answering 500 until it is deployed again.",
            release.deployment_id,
            scope.get("berth.site", "?"),
            path,
            blob,
        )

    @staticmethod
    def _not_modified(hdrs, tag: str, mtime: int) -> int | None:
        """ngx_http_not_modified_filter: 412 for failed If-Match, 304, or None (send it)."""
        if_match = hdrs.get(b"if-match")
        if if_match is not None and not h.etag_matches(if_match.decode("latin-1"), tag, weak=False):
            return 412
        ims, inm = hdrs.get(b"if-modified-since"), hdrs.get(b"if-none-match")
        if ims is None and inm is None:
            return None
        if ims is not None and h.parse_http_date(ims.decode("latin-1")) != mtime:
            return None
        if inm is not None and not h.etag_matches(inm.decode("latin-1"), tag, weak=True):
            return None
        return 304

    @staticmethod
    def _range(hdrs, tag: str, mtime: int, size: int):
        if_range = hdrs.get(b"if-range")
        if if_range is not None:
            value = if_range.decode("latin-1")
            if len(value) >= 2 and value.endswith('"'):
                if value != tag:
                    return None
            elif h.parse_http_date(value) != mtime:
                return None
        return h.parse_range(hdrs[b"range"].decode("latin-1"), size)

    async def _precondition(self, send, status, answer: FileAnswer, head) -> int:
        if status == 412:
            fixed = _short(412, answer.own_cache, answer.tail)
            return await self._respond(send, 412, fixed.headers, fixed.body, head)
        headers = [
            (b"last-modified", h.http_date(answer.mtime).encode()),
            (b"etag", answer.tag.encode()),
        ]
        if answer.vary:
            headers.append((b"vary", b"Accept-Encoding"))
        if not answer.own_cache:
            headers.append((b"cache-control", h.cache_control(304, answer.path).encode()))
        await send({"type": "http.response.start", "status": 304, "headers": headers + answer.tail})
        await send({"type": "http.response.body", "body": b""})
        return 0


def _acme(token: str) -> str | None:
    from hosting.hostnames import acme_challenge

    if not token or "/" in token or len(token) > 256:
        return None
    return acme_challenge(unquote(token))


class HostRouter:
    """ASGI HTTP entry: site hostnames to the site server, everything else to Django."""

    def __init__(self, django_app, site_server: SiteServer | None = None):
        self.django_app = django_app
        self._site_server = site_server
        self.panel_hosts = {normalise_host(settings.PANEL_URL.split("://", 1)[-1].split("/")[0])}
        self.panel_hosts.update(
            normalise_host(host) for host in settings.ALLOWED_HOSTS if not host.startswith(".")
        )
        self.panel_hosts.discard("*")
        # Host header as sent -> (hostname, where it goes): a few distinct values in
        # practice, so each is normalised and classified once (again if SITES_DOMAIN changes).
        self.hosts: dict[bytes, tuple[str, int]] = {}
        setting_changed.connect(self._setting_changed, weak=True)

    @property
    def site_server(self) -> SiteServer:
        if self._site_server is None:
            self._site_server = SiteServer()
        return self._site_server

    def _setting_changed(self, setting=None, **kwargs) -> None:
        if setting == "SITES_DOMAIN":
            self.hosts.clear()

    def _classify(self, raw: bytes) -> tuple[str, int]:
        hostname = normalise_host(raw.decode("latin-1"))
        if hostname in self.panel_hosts:
            where = PANEL
        elif slug_from_host(hostname) is not None:
            where = SITE
        else:
            where = OTHER if hostname else PANEL
        known = (hostname, where)
        if len(raw) <= 255:  # longer ones are no hostname anyway
            if len(self.hosts) >= HOSTS_KEPT:
                self.hosts.clear()
            self.hosts[raw] = known
        return known

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            hdrs = _headers(scope)
            raw = hdrs.get(b"host", b"")
            known = self.hosts.get(raw)
            if known is None:
                known = self._classify(raw)
            hostname, where = known
            if where == SITE:
                return await self.site_server.serve(scope, receive, send, hdrs, hostname)
            if where == OTHER:  # a custom domain, or a host nobody serves (Django's 400)
                server = self.site_server
                now = time.monotonic()
                server.cache.refresh(now)
                if await server.cache.route(hostname, now) is not None:
                    return await server.serve(scope, receive, send, hdrs, hostname)
        return await self.django_app(scope, receive, send)


PANEL, SITE, OTHER = 0, 1, 2
HOSTS_KEPT = 1000
