"""A component Berth depends on goes away and comes back: the check says so, an incident opens
and resolves itself, and a status-page client hears it live."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from deployments.tests.faults import RedisServer
from monitoring.models import Incident, Service
from monitoring.routing import websocket_urlpatterns
from monitoring.services import service_check

pytestmark = pytest.mark.django_db(transaction=True)


async def next_update(comm, slug: str, status: str, attempts: int = 40) -> dict:
    """The next service_update for ``slug`` with ``status`` (others are skipped)."""
    for _ in range(attempts):
        event = await comm.receive_json_from(timeout=5)
        if event.get("type") == "service_update" and (event["slug"], event["status"]) == (
            slug,
            status,
        ):
            return event
    raise AssertionError(f"no service_update {slug} -> {status}")


async def test_redis_going_down_opens_an_incident_live_and_its_return_resolves_it(
    tmp_path, settings
):
    settings.MONITORING_FAILURES_TO_OPEN = 3
    redis = RedisServer(tmp_path / "redis")
    service = await database_sync_to_async(Service.objects.create)(
        slug="cache", name="Cache", kind=Service.Kind.REDIS, target={"url": redis.url}
    )
    check = database_sync_to_async(lambda: service_check(service=service))
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/api/status/stream")
    connected, _ = await comm.connect()
    assert connected  # public: no user, no token
    try:
        result = await check()
        assert result.status == "operational"
        await next_update(comm, "cache", "operational")

        redis.kill()
        for _ in range(2):
            assert (await check()).status == "down"
        open_incidents = database_sync_to_async(
            lambda: list(Incident.objects.filter(resolved_at__isnull=True, services=service))
        )
        assert await open_incidents() == []  # two failures are not an incident yet
        await check()
        down = await next_update(comm, "cache", "down")
        assert down["responseTime"] is None and "Connection" in down["message"]
        [incident] = await open_incidents()
        assert incident.automatic and incident.state == "investigating"
        assert incident.title == "Cache is down"

        redis.start()
        assert (await check()).status == "operational"
        up = await next_update(comm, "cache", "operational")
        assert up["uptime"] < 100  # three of five checks today were down
        await database_sync_to_async(incident.refresh_from_db)()
        assert incident.state == "resolved" and incident.resolved_at is not None
        timeline = await database_sync_to_async(
            lambda: list(incident.updates.values_list("state", flat=True))
        )()
        assert timeline == ["investigating", "resolved"]
    finally:
        await comm.disconnect()
        redis.stop()
