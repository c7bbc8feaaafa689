"""``WS /api/backups/<id>/stream``: a backup's progress (files and bytes), then its end.

Events: ``progress`` (state, phase, ``filesDone``, ``bytesDone``, ``totalFiles``,
``totalBytes``) whenever it changes, and ``backup_complete`` once it succeeded or failed, after
which the server closes the socket. Every event is read from the row; the channel layer only
says "look again", and while the backup runs the consumer also looks by itself when it has
heard nothing for a moment (the layer may drop messages, or not reach across processes).
Access as for build logs: a signed-in member of the site's team (session or token), else the
socket closes with 4401 or 4404.
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError

from backups import events
from backups.models import Backup
from teams.permissions import VIEW, can

UNAUTHORIZED, NOT_FOUND = 4401, 4404
QUIET = 1.0  # seconds without news before the consumer reads the row itself


@database_sync_to_async
def _backup(user, pk) -> Backup | None:
    try:
        backup = Backup.objects.for_member(user).select_related("site").get(pk=pk)
    except (Backup.DoesNotExist, ValidationError, ValueError):
        return None
    return backup if can(user, VIEW, backup.site) else None


class BackupProgressConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=UNAUTHORIZED)
            return
        backup = await _backup(user, self.scope["url_route"]["kwargs"]["pk"])
        if backup is None:
            await self.close(code=NOT_FOUND)
            return
        self.user, self.backup_id = user, backup.pk
        self.group = events.backup_group(backup.pk)
        self.sent = None
        self.done = False
        self.lock = asyncio.Lock()
        self.nudged = asyncio.Event()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._look()
        self.poller = asyncio.create_task(self._poll())

    async def disconnect(self, code):
        poller = getattr(self, "poller", None)
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def backup_changed(self, event):
        self.nudged.set()

    async def _poll(self):
        while not self.done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.nudged.wait(), timeout=QUIET)
            self.nudged.clear()
            await self._look()

    async def _look(self):
        async with self.lock:
            if self.done:
                return
            backup = await _backup(self.user, self.backup_id)
            if backup is None:  # deleted, or the member left the team
                self.done = True
                await self.close(code=NOT_FOUND)
                return
            progress = events.progress_event(backup)
            if progress != self.sent:
                self.sent = progress
                await self.send_json(progress)
            if backup.state in Backup.FINAL_STATES:
                self.done = True
                await self.send_json(events.complete_event(backup))
                await self.close()
