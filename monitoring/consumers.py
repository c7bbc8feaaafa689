"""``WS /api/status/stream``: public live status (``service_update``, ``metrics_update``).

On connect the client gets every service's current state, then an event whenever a stored
value changes. A broadcast on the ``status`` group makes the consumer read the database at once;
it also reads it every ``POLL`` seconds, so updates arrive even when the channel layer drops a
message or cannot reach across processes (the embedded default's in-memory layer).
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from monitoring import selectors
from monitoring.events import STATUS_GROUP, service_update_event

POLL = 1.0
METRICS_EVERY = 30.0


@database_sync_to_async
def _services() -> list[dict]:
    return selectors.status_services()


@database_sync_to_async
def _metrics() -> dict:
    return selectors.status_metrics()


class StatusStreamConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.sent: dict[str, dict] = {}
        self.sent_metrics: dict | None = None
        self.lock = asyncio.Lock()
        await self.channel_layer.group_add(STATUS_GROUP, self.channel_name)
        await self.accept()
        await self._send_changes(metrics=True)
        self.poller = asyncio.create_task(self._poll())

    async def disconnect(self, code):
        if hasattr(self, "poller"):
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller
        await self.channel_layer.group_discard(STATUS_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def status_changed(self, event):
        await self._send_changes()

    async def _poll(self):
        loop = asyncio.get_running_loop()
        metrics_at = loop.time()
        while True:
            await asyncio.sleep(POLL)
            due = loop.time() - metrics_at >= METRICS_EVERY
            if due:
                metrics_at = loop.time()
            await self._send_changes(metrics=due)

    async def _send_changes(self, metrics: bool = False):
        async with self.lock:
            for service in await _services():
                if self.sent.get(service["slug"]) != service:
                    self.sent[service["slug"]] = service
                    await self.send_json(service_update_event(service))
            if metrics:
                current = await _metrics()
                if current != self.sent_metrics:
                    self.sent_metrics = current
                    await self.send_json({"type": "metrics_update", "metrics": current})
