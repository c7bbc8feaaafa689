"""Publishing to WebSocket groups, after the surrounding transaction commits.

The channel layer may drop messages (docs/architecture.md, "State"): anything a client must
not miss is stored first and read back by the consumer; what goes through here is a nudge.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def group_send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
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
