"""A change feed between processes: "site X's routes or live deployment changed".

Every process that serves sites keeps what it resolved in memory; whichever process switches a
deployment or changes hostnames publishes the site's id here, and every other process reads
the feed at most every ``SERVING_CHECK_INTERVAL`` ms, on its next request. With Redis the feed
is a capped stream; without, an append-only file under ``VAR_DIR`` (one ``write`` per entry,
atomic with O_APPEND). A reader that cannot be sure it saw every entry (it was idle for long,
or the file was replaced) is told to forget everything, which is always safe.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

EVERYTHING = "*"
# A reader idle longer than this may have missed trimmed stream entries: it starts over.
STALE_AFTER = 30.0
STREAM_LENGTH = 10_000
# After the feed failed (Redis down), it is not asked again for this long: meanwhile every
# check forgets everything (answers stay correct, at the cost of database queries).
RETRY_AFTER = 5.0


class FileFeed:
    def __init__(self, path: Path):
        self.path = path
        self.inode: int | None = None
        self.offset = 0

    def publish(self, site_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{site_id}\n".encode())
        finally:
            os.close(fd)

    def start(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self.inode, self.offset = None, 0
            return
        self.inode, self.offset = stat.st_ino, stat.st_size

    def read(self) -> list[str]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            changed = self.inode is not None
            self.inode, self.offset = None, 0
            return [EVERYTHING] if changed else []
        if self.inode is None and self.offset == 0:  # the file was made since: read it all
            self.inode = stat.st_ino
        if stat.st_ino != self.inode or stat.st_size < self.offset:
            self.inode, self.offset = stat.st_ino, stat.st_size
            return [EVERYTHING]
        if stat.st_size == self.offset:
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read(stat.st_size - self.offset)
        complete = data.rfind(b"\n") + 1  # a line still being written is read next time
        self.offset += complete
        return [line for line in data[:complete].decode().splitlines() if line]


class RedisFeed:
    def __init__(self, url: str, key: str):
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.waiting = None  # a client for blocking reads (its socket timeout is longer)
        self.key = key
        self.last_id = "0-0"

    def publish(self, site_id: str) -> None:
        self.client.xadd(self.key, {"s": site_id}, maxlen=STREAM_LENGTH, approximate=True)

    def start(self) -> None:
        newest = self.client.xrevrange(self.key, count=1)
        self.last_id = newest[0][0].decode() if newest else "0-0"

    def read(self, block: float = 0) -> list[str]:
        """Entries since the last read; with ``block`` (seconds), wait up to that long for
        the first one (a push: the reader wakes as soon as an entry is added)."""
        found: list[str] = []
        client = self.client
        if block > 0:
            if self.waiting is None:
                import redis

                self.waiting = redis.Redis.from_url(
                    self.url, socket_timeout=block + 5, socket_connect_timeout=0.5
                )
            client = self.waiting
        while True:
            wait = {"block": max(1, int(block * 1000))} if block > 0 and not found else {}
            answer = client.xread({self.key: self.last_id}, count=500, **wait)
            if not answer:
                return found
            entries = answer[0][1]
            for entry_id, fields in entries:
                self.last_id = entry_id.decode()
                found.append(fields.get(b"s", b"*").decode())
            if len(entries) < 500:
                return found


def make_feed():
    if settings.REDIS_URL:
        return RedisFeed(settings.REDIS_URL, f"{settings.CACHE_KEY_PREFIX}:serving:changes")
    return FileFeed(Path(settings.VAR_DIR) / "serving" / "changes.log")


class Watcher:
    """Reads the feed for one process, at most every ``interval`` seconds."""

    def __init__(self, feed=None, interval: float | None = None):
        self.feed = feed or make_feed()
        self.interval = settings.SERVING_CHECK_INTERVAL / 1000 if interval is None else interval
        self.checked = 0.0
        self.started = False
        self.retry_at = 0.0

    @property
    def pushes(self) -> bool:
        """Whether ``poll(block=...)`` waits for a change (Redis) rather than only reading."""
        return isinstance(self.feed, RedisFeed)

    def due(self, now: float) -> bool:
        return now - self.checked >= self.interval

    def poll(self, now: float | None = None, block: float = 0) -> list[str]:
        """Changed site ids since the last poll (``EVERYTHING`` when unsure); with ``block``
        and a feed that ``pushes``, waits up to that many seconds for one."""
        now = time.monotonic() if now is None else now
        idle = now - self.checked
        self.checked = now
        if now < self.retry_at:  # the feed's store is down: trust nothing, ask again later
            return [EVERYTHING]
        try:
            if not self.started or idle > STALE_AFTER:
                self.feed.start()
                first = not self.started
                self.started = True
                return [] if first else [EVERYTHING]
            if block > 0 and self.pushes:
                found = self.feed.read(block)
                self.checked = time.monotonic()
                return found
            return self.feed.read()
        except Exception:  # the feed's store is down: forget, and try again next time
            log.warning("Cannot read the serving change feed; retrying in %ss", RETRY_AFTER)
            self.started = False
            self.retry_at = now + RETRY_AFTER
            return [EVERYTHING]


_publishers: dict[tuple, object] = {}


def publish(site_id=None) -> None:
    """Tell every serving process (and the edge watcher) that a site, or everything, changed."""
    key = (settings.REDIS_URL, str(settings.VAR_DIR), settings.CACHE_KEY_PREFIX)
    try:
        feed = _publishers.get(key)
        if feed is None:
            feed = _publishers[key] = make_feed()
        feed.publish(str(site_id) if site_id else EVERYTHING)
    except Exception:
        log.warning("Cannot publish a serving change for %s", site_id, exc_info=True)
