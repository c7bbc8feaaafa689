"""WebSockets over the Redis channel layer stay open while idle.

channels-redis waits for messages with a 5 s blocking pop; redis-py 8 gives every connection a
5 s socket timeout by default, so before the layer's own timeout was set an idle consumer died
with ``redis.exceptions.TimeoutError`` (close code 1011) after about five seconds: live logs and
notifications dropped for every full-stack user.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.utils import timezone

from controlpanel.events import notify_user
from deployments.models import Deployment
from deployments.tests.factories import make_site

pytestmark = pytest.mark.slow

IDLE_SECONDS = 30


@pytest.fixture
def daphne(transactional_db, settings, tmp_path):
    from deployments.tests.conftest import DaphneServer

    server = DaphneServer(tmp_path, settings)
    yield server
    server.stop()


def test_redis_layer_connections_outlast_its_blocking_pop(settings, redis_url, db):
    from channels_redis.core import RedisChannelLayer

    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    # A bare URL gets redis-py's default socket timeout (5 s), no longer than the pop.
    assert isinstance(host, dict) and host["socket_timeout"] > RedisChannelLayer.brpop_timeout


def test_idle_log_stream_and_notifications_stay_open(alice, api, daphne, redis_url):
    from websockets.sync.client import connect

    site = make_site(alice, name="Idle")
    now = timezone.now()
    deployment = Deployment.objects.create(
        site=site,
        author=alice,
        source=Deployment.Source.GIT,
        status=Deployment.Status.BUILDING,
        branch="main",
        created_at=now,
        started_at=now,
        heartbeat_at=now,
    )
    base = f"ws://127.0.0.1:{daphne.port}"
    token = api.token.access
    origin = "http://localhost:8000"
    with (
        connect(
            f"{base}/ws/notifications/?token={token}", origin=origin, open_timeout=20
        ) as toasts,
        connect(
            f"{base}/api/deployments/{deployment.pk}/logs/stream?token={token}",
            origin=origin,
            open_timeout=20,
        ) as logs,
    ):
        assert json.loads(toasts.recv(timeout=20))["type"] == "connected"
        # Both sockets idle: nothing is sent either way for IDLE_SECONDS. A reader in the
        # background notes anything the server says meanwhile (a close, say).
        heard: dict[str, list] = {"toasts": [], "logs": []}

        def listen(name, socket):
            try:
                while True:
                    heard[name].append(json.loads(socket.recv()))
            except Exception as exc:  # the close is what the test looks at
                heard[name].append(exc)

        readers = [
            threading.Thread(target=listen, args=("toasts", toasts), daemon=True),
            threading.Thread(target=listen, args=("logs", logs), daemon=True),
        ]
        for reader in readers:
            reader.start()
        time.sleep(IDLE_SECONDS)
        assert all(not isinstance(e, Exception) for e in heard["toasts"] + heard["logs"]), heard

        notify_user(alice.pk, "Still here", level="info")
        from deployments.logs import LogWriter

        writer = LogWriter(deployment.pk)
        writer.write("after a quiet half minute")
        writer.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
            any(isinstance(e, dict) and e.get("message") == "Still here" for e in heard["toasts"])
            and any(
                isinstance(e, dict) and e.get("message") == "after a quiet half minute"
                for e in heard["logs"]
            )
        ):
            time.sleep(0.2)
        toast_messages = [e.get("message") for e in heard["toasts"] if isinstance(e, dict)]
        log_messages = [e.get("message") for e in heard["logs"] if isinstance(e, dict)]
        assert "Still here" in toast_messages, heard["toasts"]
        assert "after a quiet half minute" in log_messages, heard["logs"]
        assert "Server error" not in daphne.log.read_text(errors="replace")
        assert "TimeoutError" not in daphne.log.read_text(errors="replace")
