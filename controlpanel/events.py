"""Publishing to WebSocket groups, after the surrounding transaction commits.

The channel layer may drop messages (docs/architecture.md, "State"): anything a client must
not miss is stored first and read back by the consumer; what goes through here is a nudge.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 30  # seconds; Redis's own socket timeout ends a stalled call sooner

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, running in a thread of its own, for publishing from sync
    code. ``async_to_sync`` would start a new loop for every call, and the Redis layer keeps
    its connections per loop: a build's worker opened a new Redis connection for every batch
    of lines. (A forked worker process starts its own loop.)"""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="publisher", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _is_redis_layer(layer) -> bool:
    # Not imported here: channels_redis and redis (~7 MiB) load only where settings choose the
    # Redis layer, and an instance of its class exists only once its module has been imported.
    core = sys.modules.get("channels_redis.core")
    return core is not None and isinstance(layer, core.RedisChannelLayer)


def group_send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if _is_redis_layer(layer):
            sent = asyncio.run_coroutine_threadsafe(
                layer.group_send(group, message), _publisher_loop()
            )
            sent.result(timeout=PUBLISH_TIMEOUT)
        else:  # the in-memory layer: its queues live on the consumers' loop
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a broadcast must never break the action that caused it
        log.warning("Could not publish to %s", group, exc_info=True)


def group_send_on_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: group_send(group, message))


def user_group(user_id) -> str:
    return f"user.{user_id}"


def notify_user(user_id, message: str, level: str = "info", **extra) -> None:
    """A toast on every open page of the user.

    Stored first, then broadcast once the transaction commits; consumers that cannot hear the
    broadcast (the in-process channel layer, another process) read it back from the database.
    """
    from accounts.models import Notification

    notification = Notification.objects.create(
        user_id=user_id, message=message[:300], level=level, data=extra
    )
    group_send_on_commit(user_group(user_id), {"type": "notify", "payload": notification.payload()})
