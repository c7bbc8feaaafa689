"""Bandwidth per site per day, from both servers, into ``SiteBandwidth``.

The embedded server counts body bytes and requests in memory and adds them to the database
every ``SERVING_BANDWIDTH_FLUSH`` seconds (one upsert per site and day, never one per request).
The edge writes a JSON access log (host, body bytes, time); a periodic task reads it from the
offset it reached last time, noticing rotation by inode and truncation by size.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

from django.db import transaction
from django.db.models import F

log = logging.getLogger(__name__)


def bandwidth_add(totals: dict[tuple[UUID, date], list[int]]) -> int:
    """Add (bytes, requests) per (site, day) to SiteBandwidth; returns rows touched."""
    from hosting.models import Site, SiteBandwidth

    touched = 0
    existing = set(
        Site.objects.filter(pk__in={site for site, _ in totals}).values_list("pk", flat=True)
    )
    for (site_id, day), (sent, requests) in sorted(totals.items(), key=lambda kv: str(kv[0])):
        if site_id not in existing or (sent == 0 and requests == 0):
            continue
        with transaction.atomic():
            updated = SiteBandwidth.objects.filter(site_id=site_id, day=day).update(
                bytes_sent=F("bytes_sent") + sent, requests=F("requests") + requests
            )
            if not updated:
                row, created = SiteBandwidth.objects.select_for_update().get_or_create(
                    site_id=site_id, day=day, defaults={"bytes_sent": sent, "requests": requests}
                )
                if not created:
                    SiteBandwidth.objects.filter(pk=row.pk).update(
                        bytes_sent=F("bytes_sent") + sent, requests=F("requests") + requests
                    )
        touched += 1
    return touched


class Counter:
    """In-memory totals of the embedded server, flushed in a worker thread."""

    def __init__(self):
        self.totals: dict[tuple[UUID, date], list[int]] = defaultdict(lambda: [0, 0])
        self.lock = threading.Lock()

    def count(self, site_id: UUID, day: date, sent: int) -> None:
        pair = self.totals[(site_id, day)]
        pair[0] += sent
        pair[1] += 1

    def take(self) -> dict:
        with self.lock:
            totals, self.totals = self.totals, defaultdict(lambda: [0, 0])
        return dict(totals)

    def flush(self) -> int:
        totals = self.take()
        if not totals:
            return 0
        try:
            return bandwidth_add(totals)
        except Exception:
            log.warning(
                "Bandwidth flush failed; keeping the counts for the next one", exc_info=True
            )
            with self.lock:
                for key, (sent, requests) in totals.items():
                    self.totals[key][0] += sent
                    self.totals[key][1] += requests
            return 0


# --- the edge's access log ------------------------------------------------------------------
# nginx writes one JSON object a line (log_format ... escape=json): host, body bytes, epoch.
LOG_FORMAT = '{"host":"$host","site":"$berth_site","bytes":$body_bytes_sent,"time":$msec}'


def _state_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".offset")


def access_log_read(log_path: Path) -> int:
    """Add what the edge served since the last read to SiteBandwidth; returns lines counted.

    The offset and inode reached are kept beside the log. A rotated log (new inode) is read
    from its start; the lines left unread in the rotated file (``<log>.1``) are read first.
    """
    state_path = _state_path(log_path)
    try:
        state = json.loads(state_path.read_text())
    except (FileNotFoundError, ValueError):
        state = {"inode": None, "offset": 0}
    totals: dict[tuple[UUID, date], list[int]] = defaultdict(lambda: [0, 0])
    lines = 0
    try:
        stat = os.stat(log_path)
    except FileNotFoundError:
        return 0
    if state["inode"] is not None and state["inode"] != stat.st_ino:
        rotated = log_path.with_name(log_path.name + ".1")
        try:
            if os.stat(rotated).st_ino == state["inode"]:
                lines += _read_lines(rotated, state["offset"], totals)[0]
        except FileNotFoundError:
            pass
        state = {"inode": stat.st_ino, "offset": 0}
    if stat.st_size < state["offset"]:  # truncated in place
        state["offset"] = 0
    counted, offset = _read_lines(log_path, state["offset"], totals)
    lines += counted
    if totals:
        bandwidth_add(totals)
    state_path.write_text(json.dumps({"inode": stat.st_ino, "offset": offset}))
    return lines


def _read_lines(path: Path, offset: int, totals) -> tuple[int, int]:
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
        except (ValueError, KeyError, TypeError):
            continue
        pair = totals[(site_id, day)]
        pair[0] += sent
        pair[1] += 1
        counted += 1
    return counted, offset + complete
