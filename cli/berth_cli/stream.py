"""A deployment's log over the WebSocket the panel's pages use
(``/api/deployments/<id>/logs/stream``): the stored backlog, then live lines, until
``deployment_complete``. After a dropped connection it reconnects and resumes after the last
line it printed, so no line is shown twice or lost."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import connect

from berth_cli.api import ApiError

RECONNECTS = 5
# Close codes the server uses to refuse a connection.
REFUSALS = {
    4401: ("UNAUTHORIZED", "The token was refused."),
    4404: ("NOT_FOUND", "No such deployment."),
}


@dataclass
class StreamResult:
    status: str = ""
    url: str = ""
    duration: str = ""
    error: str = ""
    last_seq: int = 0
    lines: list[dict] = field(default_factory=list)


def stream_url(base_url: str, deployment_id: str, token: str, after: int) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    query = urlencode({"token": token, "after": after})
    path = f"{parts.path.rstrip('/')}/api/deployments/{deployment_id}/logs/stream"
    return f"{scheme}://{parts.netloc}{path}?{query}"


def follow(
    base_url: str,
    token: str,
    deployment_id: str,
    *,
    after: int = 0,
    on_line: Callable[[dict], None] = lambda line: None,
    on_status: Callable[[str], None] = lambda status: None,
    timeout: float | None = None,
) -> StreamResult:
    """Print (through ``on_line``) every log line after ``after`` until the deployment is
    final; answers how it ended. ``timeout`` (seconds) bounds the whole wait."""
    result = StreamResult(last_seq=after)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base_url))
    deadline = None if timeout is None else time.monotonic() + timeout
    failures = 0
    while True:
        url = stream_url(base_url, deployment_id, token, result.last_seq)
        try:
            with connect(url, origin=origin, open_timeout=15, close_timeout=2) as socket:
                failures = 0
                while True:
                    wait = None if deadline is None else max(0.1, deadline - time.monotonic())
                    try:
                        raw = socket.recv(timeout=wait)
                    except TimeoutError:
                        raise ApiError(0, "TIMEOUT", "Gave up waiting for the deploy.") from None
                    event = json.loads(raw)
                    kind = event.get("type")
                    if kind == "log":
                        if event.get("seq", 0) <= result.last_seq:
                            continue
                        result.last_seq = event["seq"]
                        on_line(event)
                    elif kind == "status_update":
                        on_status(event.get("status", ""))
                    elif kind == "deployment_complete":
                        result.status = event.get("status", "")
                        result.url = event.get("url", "")
                        result.duration = event.get("duration") or ""
                        result.error = event.get("error", "")
                        return result
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            if code in REFUSALS:
                raise ApiError(code, *REFUSALS[code]) from None
            failures += 1
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403, 404):
                message = f"The log stream was refused ({status})."
                raise ApiError(status, "REFUSED", message) from None
            failures += 1
        except (OSError, WebSocketException):
            failures += 1
        if failures > RECONNECTS:
            raise ApiError(0, "STREAM_LOST", "Lost the log stream and could not get it back.")
        time.sleep(min(5.0, 0.5 * 2**failures))
