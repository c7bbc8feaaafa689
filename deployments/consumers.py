"""``WS /api/deployments/<id>/logs/stream``: a deployment's log backlog, then live events.

Events are the Autostack client's: ``log`` (with ``seq``), ``status_update``,
``deployment_complete``.
The channel layer is only a nudge (it may drop messages, or not reach across processes when
it is the in-memory layer): the consumer keeps the last sequence number it sent, and reads
the database whenever a batch arrives past a gap, a status changes, or the stream has been
quiet for a moment while the build runs. So every line arrives exactly once, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError

from deployments import events
from deployments.logs import line_payload
from deployments.models import Deployment, LogLine
from teams.permissions import VIEW, can

log = logging.getLogger(__name__)

UNAUTHORIZED, NOT_FOUND = 4401, 4404
QUIET = 0.4  # seconds without news before the consumer looks at the database itself
TICK = 0.2
CHUNK = 5000


@database_sync_to_async
def _deployment(user, pk):
    try:
        deployment = Deployment.objects.for_member(user).select_related("site").get(pk=pk)
    except (Deployment.DoesNotExist, ValidationError, ValueError):
        return None
    return deployment if can(user, VIEW, deployment) else None


@database_sync_to_async
def _lines_after(deployment_id, seq: int) -> list[dict]:
    rows = LogLine.objects.filter(deployment_id=deployment_id, seq__gt=seq).order_by("seq")
    return [line_payload(line) for line in rows[:CHUNK]]


def _after(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


class DeploymentLogConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHORIZED)
            return
        pk = self.scope["url_route"]["kwargs"]["pk"]
        deployment = await _deployment(user, pk)
        if deployment is None:
            await self.close(code=NOT_FOUND)
            return
        self.user = user
        self.deployment_id = deployment.pk
        self.group = events.deployment_group(deployment.pk)
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.last_seq = _after((query.get("after") or [0])[0])
        self.sent_status = None
        self.completed = False
        self.lock = asyncio.Lock()
        self.last_heard = asyncio.get_running_loop().time()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        async with self.lock:
            await self._catch_up()
        self.poller = asyncio.create_task(self._poll())

    async def disconnect(self, code):
        poller = getattr(self, "poller", None)
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        if hasattr(self, "group"):
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
            for line in event["lines"]:
                if line["seq"] == self.last_seq + 1:
                    await self._send_line(line)

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
            if self.completed or loop.time() - self.last_heard < QUIET:
                continue
            async with self.lock:
                await self._catch_up()
            self._heard()

    async def _catch_up(self):
        await self._send_lines()
        await self._sync_status()

    async def _send_lines(self):
        while True:
            lines = await _lines_after(self.deployment_id, self.last_seq)
            for line in lines:
                await self._send_line(line)
            if len(lines) < CHUNK:
                return

    async def _send_line(self, line: dict):
        await self.send_json(events.log_event(line))
        self.last_seq = line["seq"]

    async def _sync_status(self):
        deployment = await _deployment(self.user, self.deployment_id)
        if deployment is None:
            return
        if deployment.is_final:
            await self._send_lines()  # every line is stored before the final status
        if deployment.status != self.sent_status:
            self.sent_status = deployment.status
            await self.send_json(events.status_event(deployment.status))
        if deployment.is_final and not self.completed:
            self.completed = True
            await self.send_json(
                events.complete_event(
                    status=deployment.status,
                    duration_seconds=deployment.duration_seconds,
                    url=deployment.site.url,
                    error=deployment.error,
                )
            )
