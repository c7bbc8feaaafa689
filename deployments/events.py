"""What a deployment's WebSocket group hears, and the helpers that publish it.

One group per deployment, ``deployment.<id>``. The channel layer may drop messages, so every
payload is a nudge over stored data: log batches carry their sequence numbers and the consumer
reads gaps back from the database; status messages are re-read from the row.
"""

from __future__ import annotations

from json.encoder import encode_basestring

from controlpanel.events import group_send, group_send_on_commit
from controlpanel.templatetags.berth import duration

STAGE_LABELS = {
    "uploading": "Uploading",
    "queued": "Queued",
    "building": "Building",
    "deploying": "Deploying",
    "success": "Success",
    "failed": "Failed",
    "cancelled": "Cancelled",
}


def deployment_group(deployment_id) -> str:
    return f"deployment.{deployment_id}"


def log_event(line: dict) -> dict:
    """The Autostack client's ``log`` event, plus the line's sequence number."""
    return {
        "type": "log",
        "seq": line["seq"],
        "timestamp": line["timestamp"],
        "level": line["level"],
        "message": line["message"],
    }


def timestamp_text(timestamp) -> str:
    return timestamp.isoformat().replace("+00:00", "Z")


def log_frame(seq: int, level: str, message: str, timestamp: str) -> str:
    """``log_event`` as JSON text (as ``json.dumps`` with ``ensure_ascii=False`` and compact
    separators writes it), without building the dict: a burst of lines is encoded line by line.
    ``timestamp`` is ``timestamp_text``'s."""
    return (
        f'{{"type":"log","seq":{seq},"timestamp":"{timestamp}","level":"{level}",'
        f'"message":{encode_basestring(message)}}}'
    )


def status_event(status: str) -> dict:
    return {"type": "status_update", "status": status, "stage": STAGE_LABELS.get(status, status)}


def complete_event(*, status: str, duration_seconds, url: str, error: str = "") -> dict:
    event = {
        "type": "deployment_complete",
        "status": status,
        "duration": duration(duration_seconds),
        "url": url,
    }
    if error:
        event["error"] = error
    return event


def log_lines_published(deployment_id, first: int, frames: list[str]) -> None:
    """A stored batch of consecutive lines, numbered from ``first``, each as its ``log`` event's
    JSON text (``log_frame``): one message for the batch, which web processes forward as it is.
    (A message may also carry ``lines``, dicts as ``log_event`` takes them, instead of
    ``frames``: the consumer encodes those itself.)"""
    if frames:
        group_send(
            deployment_group(deployment_id),
            {
                "type": "log.lines",
                "first": first,
                "last": first + len(frames) - 1,
                "frames": frames,
            },
        )


def status_changed(deployment_id, status: str) -> None:
    """The deployment's status changed: sent after the transaction commits."""
    group_send_on_commit(
        deployment_group(deployment_id), {"type": "deployment.status", "status": status}
    )
