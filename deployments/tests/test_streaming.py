"""Live logs of real builds: 50,000 lines over a lossy channel layer, and a real daphne."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings

from deployments.models import Deployment, LogLine
from deployments.routing import websocket_urlpatterns
from deployments.tests.conftest import WorkerProcess, wait_for
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.test_pipeline import deploy

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LINES = 50_000
CAPACITY = 1


@pytest.fixture
def lossy_layer(settings):
    """A channel layer that keeps at most a few messages per channel (Channels drops the rest):
    Redis shared with the worker when REDIS_URL is set; else this process's memory, which the
    worker process cannot reach at all."""
    if django_settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"],
                    "prefix": "berth-test:asgi",
                    "capacity": CAPACITY,
                },
            }
        }
        return {"CHANNEL_LAYER_CAPACITY": str(CAPACITY), "CACHE_KEY_PREFIX": "berth-test"}
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CAPACITY},
        }
    }
    return {}


CHATTY = (
    "#!/bin/sh\n"
    f"seq 1 {LINES} | while read i; do echo $i; case $i in *000) sleep 0.05;; esac; done\n"
)


def test_fifty_thousand_lines_arrive_once_and_in_order(
    api, alice, tmp_path, settings, lossy_layer, caplog
):
    caplog.set_level(logging.DEBUG, logger="deployments.consumers")
    site = {**STATIC_SITE, "build.sh": CHATTY + STATIC_SITE["build.sh"][10:]}
    repo = make_repo(tmp_path / "chatty", site)
    worker = WorkerProcess(tmp_path, settings, lossy_layer)
    try:
        created = deploy(api, repo)
        # Join late: while the consumer reads the backlog, live batches overflow the layer.
        wait_for(lambda: LogLine.objects.filter(deployment_id=created["id"]).count() > 5000)

        async def listen():
            path = f"/api/deployments/{created['id']}/logs/stream"
            comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
            comm.scope["user"] = alice
            assert (await comm.connect())[0]
            events = []
            while True:
                event = await comm.receive_json_from(timeout=60)
                events.append(event)
                if event["type"] == "deployment_complete":
                    await comm.disconnect()
                    return events

        events = asyncio.run(listen())
    finally:
        worker.stop()
    deployment = Deployment.objects.get(pk=created["id"])
    assert deployment.status == "success", deployment.error
    logs = [e for e in events if e["type"] == "log"]
    stored = LogLine.objects.filter(deployment=deployment).count()
    assert [e["seq"] for e in logs] == list(range(1, stored + 1))
    numbers = [e["message"] for e in logs if e["message"].isdigit()]
    assert numbers == [str(i) for i in range(1, LINES + 1)]
    assert events[-1]["status"] == "success" and events[-1]["url"] == deployment.site.url
    # How the lines came: announced batches, and gaps read back after drops (see with -s).
    messages = [r.getMessage() for r in caplog.records if r.name == "deployments.consumers"]
    batches = [m.split()[1].split("-") for m in messages if m.startswith("Batch")]
    announced = sum(int(last) - int(first) + 1 for first, last in batches)
    gaps = sum(m.startswith("Gap after") for m in messages)
    print(f"{announced} of {stored} lines announced in {len(batches)} batches; {gaps} gaps")


def test_live_stream_through_a_real_daphne(api, alice, tmp_path, settings, daphne, worker):
    from websockets.sync.client import connect

    repo = make_repo(tmp_path / "served", {**STATIC_SITE, "build.sh": "#!/bin/sh\nseq 1 500\n"})
    created = deploy(api, repo, outputDir=".")
    url = (
        f"ws://127.0.0.1:{daphne.port}/api/deployments/{created['id']}/logs/stream"
        f"?token={api.token.access}"
    )
    events = []
    with connect(url, origin="http://localhost:8000", open_timeout=10) as socket:
        socket.send(json.dumps({"type": "subscribe", "deploymentId": created["id"]}))
        while not events or events[-1]["type"] != "deployment_complete":
            events.append(json.loads(socket.recv(timeout=60)))
    logs = [e for e in events if e["type"] == "log"]
    assert [e["seq"] for e in logs] == list(range(1, len(logs) + 1))
    assert [e["message"] for e in logs if e["message"].isdigit()] == [str(i) for i in range(1, 501)]
    statuses = [e["status"] for e in events if e["type"] == "status_update"]
    assert statuses[-1] == "success"
    assert events[-1]["type"] == "deployment_complete" and events[-1]["status"] == "success"
