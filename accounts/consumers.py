"""``/ws/notifications/``: live toasts for every open page of a signed-in user."""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import InMemoryChannelLayer

from accounts.models import Notification
from controlpanel.events import user_group

UNAUTHORIZED = 4401
# How often stored notifications are read when the channel layer cannot carry them.
POLL_SECONDS = 2.0


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHORIZED)
            return
        self.user_id = user.pk
        self.group = user_group(user.pk)
        # Only what happens from now on; ids already shown are remembered, so no toast twice.
        self.cursor = await self._latest_id()
        self.delivered: set[int] = set()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "connected", "userId": str(user.pk)})
        self.poller = None
        if isinstance(self.channel_layer, InMemoryChannelLayer):
            # The in-process layer never hears the worker: read what it stored instead.
            self.poller = asyncio.ensure_future(self._poll())

    async def disconnect(self, code):
        if getattr(self, "poller", None) is not None:
            self.poller.cancel()
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def notify(self, event):
        await self._deliver(event["payload"])

    async def _deliver(self, payload: dict) -> None:
        ident = payload.get("id")
        if ident is not None:
            if ident in self.delivered:
                return  # already delivered by the other path
            self.delivered.add(ident)
            if len(self.delivered) > 500:
                self.delivered = set(sorted(self.delivered)[-250:])
        await self.send_json(payload)

    async def _poll(self):
        while True:
            await asyncio.sleep(POLL_SECONDS)
            for payload in await self._stored_since(self.cursor):
                self.cursor = max(self.cursor, payload["id"])
                await self._deliver(payload)

    @database_sync_to_async
    def _latest_id(self) -> int:
        latest = Notification.objects.filter(user_id=self.user_id).values_list("id", flat=True)
        return latest.first() or 0

    @database_sync_to_async
    def _stored_since(self, cursor: int) -> list[dict]:
        rows = Notification.objects.filter(user_id=self.user_id, id__gt=cursor).order_by("id")
        return [n.payload() for n in rows[:20]]
