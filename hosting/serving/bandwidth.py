"""Traffic per site per day, from both servers: bytes and requests (``SiteBandwidth``), the
status codes answered (``SiteStatusDay``) and the most requested paths (``SitePathDay``).

The embedded server counts in memory and adds its counts to the database every
``SERVING_BANDWIDTH_FLUSH`` seconds (a few upserts per site and day, never one per request).
The edge writes a JSON access log (site, status, path, body bytes, time); a periodic task reads
it from the offset it reached last time, noticing rotation by inode and truncation by size.

Both keep the tables bounded: a few status codes per site and day, and at most
``SitePathDay.TOP_PATHS`` paths (the busiest) with one more row counting all the others.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote
from uuid import UUID

from django.db import transaction
from django.db.models import F

log = logging.getLogger(__name__)

OTHER = ""  # the path row standing for every path not in a day's top list
MEMORY_PATHS = 1000  # distinct paths a server keeps per site and day between two flushes
PATH_MAX = 500  # characters of a path kept (SitePathDay.path)


@dataclass
class Tally:
    """What one site served on one day: body bytes, requests, per status, per path."""

    sent: int = 0
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    paths: dict[str, list[int]] = field(default_factory=dict)  # path -> [requests, bytes]

    def add(self, sent: int, status: int | None = None, path: str | None = None) -> None:
        self.sent += sent
        self.requests += 1
        if status:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if path is not None:
            self._add_path(path[:PATH_MAX], 1, sent)

    def _add_path(self, path: str, requests: int, sent: int) -> None:
        if path not in self.paths and len(self.paths) >= MEMORY_PATHS:
            path = OTHER
        pair = self.paths.setdefault(path, [0, 0])
        pair[0] += requests
        pair[1] += sent

    def merge(self, other: Tally) -> None:
        self.sent += other.sent
        self.requests += other.requests
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        for path, (requests, sent) in other.paths.items():
            self._add_path(path, requests, sent)


Tallies = dict[tuple[UUID, date], Tally]


def traffic_add(tallies: Tallies) -> int:
    """Add each (site, day)'s tally to the traffic tables; returns site-days touched.

    Per site and day, one transaction: the bandwidth row is updated first, and its row lock
    makes concurrent writers (embedded servers, the edge reader) take turns on the status and
    path rows of that day.
    """
    from hosting.models import Site

    existing = set(
        Site.objects.filter(pk__in={site for site, _ in tallies}).values_list("pk", flat=True)
    )
    touched = 0
    for (site_id, day), tally in sorted(tallies.items(), key=lambda kv: str(kv[0])):
        if site_id not in existing or tally.requests == 0:
            continue
        with transaction.atomic():
            _bandwidth_add(site_id, day, tally)
            _statuses_add(site_id, day, tally.statuses)
            _paths_add(site_id, day, tally.paths)
        touched += 1
    return touched


def _bandwidth_add(site_id: UUID, day: date, tally: Tally) -> None:
    from hosting.models import SiteBandwidth

    more = {"bytes_sent": F("bytes_sent") + tally.sent, "requests": F("requests") + tally.requests}
    if SiteBandwidth.objects.filter(site_id=site_id, day=day).update(**more):
        return
    row, created = SiteBandwidth.objects.select_for_update().get_or_create(
        site_id=site_id, day=day, defaults={"bytes_sent": tally.sent, "requests": tally.requests}
    )
    if not created:
        SiteBandwidth.objects.filter(pk=row.pk).update(**more)


def _statuses_add(site_id: UUID, day: date, statuses: dict[int, int]) -> None:
    from hosting.models import SiteStatusDay

    if not statuses:
        return
    rows = SiteStatusDay.objects.filter(site_id=site_id, day=day)
    known = set(rows.filter(status__in=statuses).values_list("status", flat=True))
    for status in known:
        rows.filter(status=status).update(requests=F("requests") + statuses[status])
    SiteStatusDay.objects.bulk_create(
        SiteStatusDay(site_id=site_id, day=day, status=status, requests=count)
        for status, count in sorted(statuses.items())
        if status not in known
    )


def _paths_add(site_id: UUID, day: date, paths: dict[str, list[int]]) -> None:
    """Merge counts into the day's top paths: the ``TOP_PATHS`` busiest (by requests, then
    bytes) keep a row of their own, the rest are added to the ``OTHER`` row. A path pushed out
    and requested again later starts again from its new requests."""
    from hosting.models import SitePathDay

    if not paths:
        return
    rows = {row.path: row for row in SitePathDay.objects.filter(site_id=site_id, day=day)}
    merged = {path: [row.requests, row.bytes_sent] for path, row in rows.items()}
    for path, (requests, sent) in paths.items():
        pair = merged.setdefault(path, [0, 0])
        pair[0] += requests
        pair[1] += sent
    other = merged.pop(OTHER, [0, 0])
    ranked = sorted(merged.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    kept = dict(ranked[: SitePathDay.TOP_PATHS])
    for _, (requests, sent) in ranked[SitePathDay.TOP_PATHS :]:
        other[0] += requests
        other[1] += sent
    if other[0]:
        kept[OTHER] = other
    gone = [row.pk for path, row in rows.items() if path not in kept]
    if gone:
        SitePathDay.objects.filter(pk__in=gone).delete()
    changed, new = [], []
    for path, (requests, sent) in kept.items():
        row = rows.get(path)
        if row is None:
            new.append(
                SitePathDay(site_id=site_id, day=day, path=path, requests=requests, bytes_sent=sent)
            )
        elif (row.requests, row.bytes_sent) != (requests, sent):
            row.requests, row.bytes_sent = requests, sent
            changed.append(row)
    if changed:
        SitePathDay.objects.bulk_update(changed, ["requests", "bytes_sent"])
    if new:
        SitePathDay.objects.bulk_create(new)


class Counter:
    """In-memory tallies of the embedded server, flushed in a worker thread."""

    def __init__(self):
        self.tallies: Tallies = defaultdict(Tally)
        self.lock = threading.Lock()

    def count(
        self,
        site_id: UUID,
        day: date,
        sent: int,
        status: int | None = None,
        path: str | None = None,
    ) -> None:
        self.tallies[(site_id, day)].add(sent, status, path)

    def take(self) -> Tallies:
        with self.lock:
            tallies, self.tallies = self.tallies, defaultdict(Tally)
        return dict(tallies)

    def flush(self) -> int:
        tallies = self.take()
        if not tallies:
            return 0
        try:
            return traffic_add(tallies)
        except Exception:
            log.warning("Traffic flush failed; keeping the counts for the next one", exc_info=True)
            with self.lock:
                for key, tally in tallies.items():
                    self.tallies[key].merge(tally)
            return 0


# --- the edge's access log ------------------------------------------------------------------
# nginx writes one JSON object a line (log_format ... escape=json): host, site, status, the
# request's path as sent (with its query, percent-encoded), body bytes, epoch.
LOG_FORMAT = (
    '{"host":"$host","site":"$berth_site","status":$status,"path":"$request_uri",'
    '"bytes":$body_bytes_sent,"time":$msec}'
)


def request_path(request_uri: str) -> str:
    """``/a%20b?x=1`` -> ``/a b``: the path as the embedded server sees it (decoded, no query)."""
    return unquote(request_uri.partition("?")[0])


def _state_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".offset")


def access_log_read(log_path: Path) -> int:
    """Add what the edge served since the last read to the traffic tables; returns lines
    counted.

    The offset and inode reached are kept beside the log. A rotated log (new inode) is read
    from its start; the lines left unread in the rotated file (``<log>.1``) are read first.
    """
    state_path = _state_path(log_path)
    try:
        state = json.loads(state_path.read_text())
    except (FileNotFoundError, ValueError):
        state = {"inode": None, "offset": 0}
    tallies: Tallies = defaultdict(Tally)
    lines = 0
    try:
        stat = os.stat(log_path)
    except FileNotFoundError:
        return 0
    if state["inode"] is not None and state["inode"] != stat.st_ino:
        rotated = log_path.with_name(log_path.name + ".1")
        try:
            if os.stat(rotated).st_ino == state["inode"]:
                lines += _read_lines(rotated, state["offset"], tallies)[0]
        except FileNotFoundError:
            pass
        state = {"inode": stat.st_ino, "offset": 0}
    if stat.st_size < state["offset"]:  # truncated in place
        state["offset"] = 0
    counted, offset = _read_lines(log_path, state["offset"], tallies)
    lines += counted
    if tallies:
        traffic_add(tallies)
    state_path.write_text(json.dumps({"inode": stat.st_ino, "offset": offset}))
    return lines


def _read_lines(path: Path, offset: int, tallies: Tallies) -> tuple[int, int]:
    counted = 0
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    complete = data.rfind(b"\n") + 1
    for raw in data[:complete].splitlines():
        try:
            entry = json.loads(raw)
            site_id = UUID(entry["site"])
            day = datetime.fromtimestamp(float(entry["time"]), tz=UTC).date()
            sent = int(entry["bytes"])
            # Lines written before the log had them carry no status or path.
            status = int(entry["status"]) if "status" in entry else None
            path = request_path(str(entry["path"])) if "path" in entry else None
        except (ValueError, KeyError, TypeError):
            continue
        tallies[(site_id, day)].add(sent, status, path)
        counted += 1
    return counted, offset + complete
