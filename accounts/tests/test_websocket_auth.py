"""WebSockets: anonymous connections are refused; session cookie or ?token= is accepted."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from accounts.consumers import UNAUTHORIZED
from conftest import bearer_client
from controlpanel.asgi import application
from controlpanel.events import notify_user

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://localhost:8000")
HOST = (b"host", b"localhost:8000")


def communicator(path: str, *headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=[ORIGIN, HOST, *headers])


async def test_anonymous_connection_is_refused():
    ws = communicator("/ws/notifications/")
    connected, code = await ws.connect()
    assert not connected and code == UNAUTHORIZED


async def test_bad_token_is_refused():
    ws = communicator("/ws/notifications/?token=brt_forged")
    connected, code = await ws.connect()
    assert not connected and code == UNAUTHORIZED


async def test_token_in_query_is_accepted_and_receives_toasts(alice):
    from asgiref.sync import sync_to_async

    client = await sync_to_async(bearer_client)(alice)
    ws = communicator(f"/ws/notifications/?token={client.token.access}")
    connected, _ = await ws.connect()
    assert connected
    hello = await ws.receive_json_from()
    assert hello == {"type": "connected", "userId": str(alice.pk)}
    await sync_to_async(notify_user)(alice.pk, "Deployment live", level="success")
    toast = await ws.receive_json_from(timeout=2)
    assert toast["type"] == "toast" and toast["message"] == "Deployment live"
    await ws.disconnect()


async def test_session_cookie_is_accepted(alice, client):
    from asgiref.sync import sync_to_async

    await sync_to_async(client.force_login)(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    ws = communicator("/ws/notifications/", (b"cookie", cookie))
    connected, _ = await ws.connect()
    assert connected
    await ws.disconnect()


async def test_foreign_origin_is_refused(alice):
    from asgiref.sync import sync_to_async

    client = await sync_to_async(bearer_client)(alice)
    ws = WebsocketCommunicator(
        application,
        f"/ws/notifications/?token={client.token.access}",
        headers=[(b"origin", b"https://evil.example"), HOST],
    )
    connected, _ = await ws.connect()
    assert not connected


async def test_toasts_go_only_to_their_user(alice, bob):
    from asgiref.sync import sync_to_async

    bob_client = await sync_to_async(bearer_client)(bob)
    ws = communicator(f"/ws/notifications/?token={bob_client.token.access}")
    assert (await ws.connect())[0]
    await ws.receive_json_from()
    await sync_to_async(notify_user)(alice.pk, "for alice only")
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_embedded_layer_delivers_toasts_stored_by_other_processes(
    alice, settings, monkeypatch
):
    """With the in-process layer, a toast a worker stored (no broadcast heard) still arrives."""
    from asgiref.sync import sync_to_async

    from accounts import consumers
    from accounts.models import Notification

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    monkeypatch.setattr(consumers, "POLL_SECONDS", 0.05)
    await sync_to_async(Notification.objects.create)(user=alice, message="old news")
    client = await sync_to_async(bearer_client)(alice)
    ws = communicator(f"/ws/notifications/?token={client.token.access}")
    assert (await ws.connect())[0]
    await ws.receive_json_from()
    # As the Celery worker does: a row in the database, the broadcast lost to this process.
    await sync_to_async(Notification.objects.create)(
        user=alice, message="Deployment of blog succeeded", level="success"
    )
    toast = await ws.receive_json_from(timeout=3)
    assert toast["message"] == "Deployment of blog succeeded" and toast["level"] == "success"
    # Sent both ways (broadcast in this process and stored): shown once.
    await sync_to_async(notify_user)(alice.pk, "Signed in elsewhere")
    assert (await ws.receive_json_from(timeout=3))["message"] == "Signed in elsewhere"
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()
