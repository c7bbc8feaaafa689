"""``WS /api/deployments/<id>/logs/stream``: a deployment's log backlog, then live events.

Events are the Autostack client's: ``log`` (with ``seq``), ``status_update``,
``deployment_complete``. A client that connects with ``?batch=1`` (the panel's log page) gets
lines as ``{"type": "logs", "lines": [<log event>, ...]}`` instead, several to a message: one
WebSocket message per line is most of what a log burst costs the web process. Lines come as
JSON text, encoded once (by the worker for a batch it announces, here for lines read back), and
are forwarded as they are.
The channel layer is only a nudge (it may drop messages, or not reach across processes when
it is the in-memory layer): the consumer keeps the last sequence number it sent, and reads
the database whenever a batch arrives past a gap, a status changes, or the stream has been
quiet for a moment while the build runs. So every line arrives exactly once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer
from django.core.exceptions import ValidationError

from controlpanel.dbthreads import off_thread
from deployments import events
from deployments.models import Deployment, LogLine
from teams.permissions import VIEW, can

log = logging.getLogger(__name__)

UNAUTHORIZED, NOT_FOUND = 4401, 4404
QUIET = 0.4  # seconds without news before the consumer looks at the database itself
# With a layer that reaches the builders (Redis) the look is only for dropped messages.
QUIET_SHARED_LAYER = 2.0
TICK = 0.2
CHUNK = 5000
FRAME_LINES = 1000  # lines in one ``logs`` message at most


def _visible(user, pk):
    """The deployment if ``user`` may view it (its team's member, within a team token's team),
    else None: the whole access check of a connection, in one call on the database pool."""
    try:
        deployment = Deployment.objects.for_member(user).select_related("site").get(pk=pk)
    except (Deployment.DoesNotExist, ValidationError, ValueError):
        return None
    return deployment if can(user, VIEW, deployment) else None


_deployment = off_thread(_visible)


Backlog = tuple[list[str], int]  # stored lines' ``log`` events as JSON text, the last's number


@off_thread
def _read(user, deployment_id, seq: int) -> tuple[Deployment | None, Backlog]:
    """The deployment's row (as ``_visible`` checks it), then up to CHUNK lines after
    ``seq``: read in this order, every line stored before a final status is among them."""
    deployment = _visible(user, deployment_id)
    if deployment is None:
        return None, ([], seq)
    return deployment, _lines(deployment_id, seq)


@off_thread
def _lines_after(deployment_id, seq: int) -> Backlog:
    return _lines(deployment_id, seq)


def _lines(deployment_id, seq: int) -> Backlog:
    rows = (
        LogLine.objects.filter(deployment_id=deployment_id, seq__gt=seq)
        .order_by("seq")
        .values_list("seq", "level", "message", "timestamp")
    )
    frames, last_seq, last, stamp = [], seq, None, ""
    for last_seq, level, message, timestamp in rows[:CHUNK]:
        if timestamp != last:  # lines read together share their time
            last, stamp = timestamp, events.timestamp_text(timestamp)
        frames.append(events.log_frame(last_seq, level, message, stamp))
    return frames, last_seq


# Joining and leaving the group take a connection each from the channel layer's Redis pool,
# which refuses more than 100 at a time: hundreds of viewers arriving together take turns.
LAYER_CALLS = 20
_layer_slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _layer_slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _layer_slots.get(loop)
    if slot is None:
        slot = _layer_slots[loop] = asyncio.Semaphore(LAYER_CALLS)
    return slot


def _after(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _frames(event: dict) -> list[str] | None:
    """The batch's lines as their ``log`` events' JSON text: as the worker encoded them, or
    (a message with ``lines``) encoded here; None unless they are one run of numbers."""
    frames = event.get("frames")
    if frames is None:
        lines = event.get("lines") or []
        if [line["seq"] for line in lines] != list(range(event["first"], event["last"] + 1)):
            return None
        frames = [_dumps(events.log_event(line)) for line in lines]
    return frames if len(frames) == event["last"] - event["first"] + 1 else None


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class DeploymentLogConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(UNAUTHORIZED)
            return
        pk = self.scope["url_route"]["kwargs"]["pk"]
        deployment = await _deployment(user, pk)
        if deployment is None:
            await self._refuse(NOT_FOUND)
            return
        self.user = user
        self.deployment_id = deployment.pk
        self.group = events.deployment_group(deployment.pk)
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.last_seq = _after((query.get("after") or [0])[0])
        self.batch = (query.get("batch") or [""])[0] in ("1", "true", "yes")
        self.quiet = (
            QUIET if isinstance(self.channel_layer, InMemoryChannelLayer) else QUIET_SHARED_LAYER
        )
        self.sent_status = None
        self.completed = False
        self.lock = asyncio.Lock()
        self.last_heard = asyncio.get_running_loop().time()
        async with _layer_slot():
            await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        async with self.lock:
            await self._catch_up()
        self.poller = asyncio.create_task(self._poll())

    async def _refuse(self, code: int):
        """Close with ``code`` (4401 or 4404) after accepting: a server that closes a handshake
        before accepting answers HTTP 403, and a browser sees only an abnormal closure, as
        for a network failure, so the log page would keep reconnecting."""
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        poller = getattr(self, "poller", None)
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        if hasattr(self, "group"):
            async with _layer_slot():
                await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "subscribe":
            # Resume from the last line the client has (the Autostack client's subscribe message).
            after = content.get("after", content.get("lastSeq", content.get("seq")))
            async with self.lock:
                if after is not None:
                    self.last_seq = _after(after)
                self.sent_status, self.completed = None, False
                await self._catch_up()
        elif kind == "ping":
            await self.send_json({"type": "pong", "seq": self.last_seq})

    # --- channel layer events (handler names follow the event types) ---------------------

    async def log_lines(self, event):
        self._heard()
        log.debug("Batch %s-%s of %s", event["first"], event["last"], self.deployment_id)
        async with self.lock:
            if event["last"] <= self.last_seq:
                return
            if event["first"] > self.last_seq + 1:
                log.debug("Gap after line %s of %s", self.last_seq, self.deployment_id)
                await self._send_lines()  # the layer dropped something: read it back
                if event["last"] <= self.last_seq:
                    return
            frames = _frames(event)
            if frames is None:
                return  # not one run of numbers (never sent so): the next look reads them
            await self._send_frames(frames[self.last_seq + 1 - event["first"] :], event["last"])

    async def deployment_status(self, event):
        self._heard()
        async with self.lock:
            await self._sync_status()

    # --- reading the database -------------------------------------------------------------

    def _heard(self) -> None:
        self.last_heard = asyncio.get_running_loop().time()

    async def _poll(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK)
            if self.completed or loop.time() - self.last_heard < self.quiet:
                continue
            async with self.lock:
                await self._catch_up()
            self._heard()

    async def _catch_up(self):
        deployment, backlog = await _read(self.user, self.deployment_id, self.last_seq)
        await self._send_backlog(backlog)
        if deployment is not None:
            await self._send_status(deployment)

    async def _send_lines(self):
        await self._send_backlog(await _lines_after(self.deployment_id, self.last_seq))

    async def _send_backlog(self, backlog: Backlog):
        """Send stored lines (one read of at most CHUNK), then the rest there is, chunk by
        chunk."""
        while True:
            frames, last_seq = backlog
            if frames:
                await self._send_frames(frames, last_seq)
            if len(frames) < CHUNK:
                return
            backlog = await _lines_after(self.deployment_id, self.last_seq)

    async def _send_frames(self, frames: list[str], last_seq: int):
        """Send consecutive lines (their ``log`` events' JSON), the last numbered ``last_seq``:
        one message each, or ``logs`` messages of up to FRAME_LINES for a batch client."""
        if self.batch:
            for at in range(0, len(frames), FRAME_LINES):
                part = ",".join(frames[at : at + FRAME_LINES])
                await self.send(text_data='{"type":"logs","lines":[' + part + "]}")
        else:
            for frame in frames:
                await self.send(text_data=frame)
        self.last_seq = last_seq

    async def _sync_status(self):
        deployment, backlog = await _read(self.user, self.deployment_id, self.last_seq)
        if deployment is None:
            return
        if deployment.is_settled:
            await self._send_backlog(backlog)  # every line is stored before the final status
        await self._send_status(deployment)

    async def _send_status(self, deployment):
        if deployment.status != self.sent_status:
            self.sent_status = deployment.status
            await self.send_json(events.status_event(deployment.status))
        if deployment.is_settled and not self.completed:
            self.completed = True
            await self.send_json(
                events.complete_event(
                    status=deployment.status,
                    duration_seconds=deployment.duration_seconds,
                    url=deployment.site.url,
                    error=deployment.error,
                )
            )
