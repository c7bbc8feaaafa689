"""The log stream: backlog, live events, resume, access, and complete delivery when the channel
layer drops messages or cannot reach across processes."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from deployments import builds
from deployments.logs import LogWriter
from deployments.models import Deployment, LogLine
from deployments.routing import websocket_urlpatterns
from deployments.tests.factories import make_site

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def building(alice):
    site = make_site(alice, name="Stream")
    now = timezone.now()
    return Deployment.objects.create(
        site=site,
        author=alice,
        source=Deployment.Source.GIT,
        status=Deployment.Status.BUILDING,
        branch="main",
        created_at=now,
        started_at=now,
        heartbeat_at=now,
    )


def communicator(deployment, user, query: str = "") -> WebsocketCommunicator:
    path = f"/api/deployments/{deployment.pk}/logs/stream{query}"
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    comm.scope["user"] = user
    return comm


def write_lines(deployment_id, messages, *, broadcast: bool = True) -> None:
    writer = LogWriter(deployment_id)
    if not broadcast:  # stored, never announced: as when the worker's layer is another process's
        start = writer.seq
        LogLine.objects.bulk_create(
            LogLine(deployment_id=deployment_id, seq=start + i, message=m, timestamp=timezone.now())
            for i, m in enumerate(messages)
        )
        return
    for message in messages:
        writer.write(message)
    writer.flush()


async def collect(comm, until: str = "deployment_complete", timeout: float = 10) -> list[dict]:
    events = []
    while True:
        event = await comm.receive_json_from(timeout=timeout)
        events.append(event)
        if event["type"] == until:
            return events


def log_seqs(events) -> list[int]:
    return [e["seq"] for e in events if e["type"] == "log"]


def test_backlog_then_live_lines_then_completion(alice, building):
    write_lines(building.pk, ["one", "two"])

    async def scenario():
        comm = communicator(building, alice)
        connected, _ = await comm.connect()
        assert connected
        first = [await comm.receive_json_from() for _ in range(3)]
        assert [e["message"] for e in first[:2]] == ["one", "two"]
        assert first[0] == {
            "type": "log",
            "seq": 1,
            "timestamp": first[0]["timestamp"],
            "level": "info",
            "message": "one",
        }
        assert first[2] == {"type": "status_update", "status": "building", "stage": "Building"}
        await database_sync_to_async(write_lines)(building.pk, ["three", "npm WARN old"])
        live = [await comm.receive_json_from() for _ in range(2)]
        assert [(e["seq"], e["level"], e["message"]) for e in live] == [
            (3, "info", "three"),
            (4, "warning", "npm WARN old"),
        ]
        await database_sync_to_async(builds.build_finish)(
            deployment_id=building.pk, status="failed", error="The build failed.", build_duration=75
        )
        rest = await collect(comm)
        assert rest[-2] == {"type": "status_update", "status": "failed", "stage": "Failed"}
        assert rest[-1] == {
            "type": "deployment_complete",
            "status": "failed",
            "duration": "1m 15s",
            "url": building.site.url,
            "error": "The build failed.",
        }
        await comm.disconnect()

    asyncio.run(scenario())


def test_resume_after_a_sequence_number(alice, building):
    write_lines(building.pk, [f"line {i}" for i in range(1, 11)])

    async def scenario():
        comm = communicator(building, alice, "?after=7")
        await comm.connect()
        events = await collect(comm, until="status_update")
        assert log_seqs(events) == [8, 9, 10]
        # the Autostack client's subscribe message resumes too
        await comm.send_json_to({"type": "subscribe", "deploymentId": str(building.pk), "after": 5})
        events = await collect(comm, until="status_update")
        assert log_seqs(events) == [6, 7, 8, 9, 10]
        await comm.disconnect()

    asyncio.run(scenario())


def test_a_batch_client_gets_the_same_lines_several_to_a_message(alice, building):
    """``?batch=1`` (the log page): ``logs`` messages holding the very ``log`` events a
    per-line client gets, backlog and live, each line once and in order."""
    write_lines(building.pk, [f"early {i}" for i in range(1, 2501)])

    async def scenario():
        comm = communicator(building, alice, "?batch=1&after=2")
        assert (await comm.connect())[0]
        events = await collect(comm, until="status_update")
        assert [e["type"] for e in events] == ["logs", "logs", "logs", "status_update"]
        backlog = [line for e in events[:-1] for line in e["lines"]]
        assert [line["seq"] for line in backlog] == list(range(3, 2501))
        assert backlog[0] == {
            "type": "log",
            "seq": 3,
            "timestamp": backlog[0]["timestamp"],
            "level": "info",
            "message": "early 3",
        }
        await database_sync_to_async(write_lines)(building.pk, ["late 1", "late 2", "late 3"])
        live = await comm.receive_json_from()
        assert live["type"] == "logs"
        assert [(line["seq"], line["message"]) for line in live["lines"]] == [
            (2501, "late 1"),
            (2502, "late 2"),
            (2503, "late 3"),
        ]
        await comm.disconnect()

    asyncio.run(scenario())


def test_only_the_owner_may_listen(alice, bob, building):
    async def scenario():
        for user, code in ((bob, 4404), (AnonymousUser(), 4401)):
            comm = communicator(building, user)
            await comm.connect()
            closed = await comm.receive_output()
            assert closed == {"type": "websocket.close", "code": code}

    asyncio.run(scenario())


def test_dropped_messages_are_read_back_in_order(alice, building, settings):
    # A layer that holds one message per channel: batches sent back to back, without the
    # consumer getting a turn in between, are dropped on the floor but the first.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1}}
    }
    from channels.layers import get_channel_layer

    from deployments.events import deployment_group
    from deployments.logs import line_payload

    def store():
        write_lines(building.pk, [f"line {i}" for i in range(1, 3001)], broadcast=False)
        return [line_payload(line) for line in LogLine.objects.filter(deployment=building)]

    async def scenario():
        comm = communicator(building, alice)
        await comm.connect()
        await collect(comm, until="status_update")
        lines = await database_sync_to_async(store)()
        layer = get_channel_layer()
        for start in range(0, 3000, 10):
            batch = lines[start : start + 10]
            await layer.group_send(
                deployment_group(building.pk),
                {
                    "type": "log.lines",
                    "first": batch[0]["seq"],
                    "last": batch[-1]["seq"],
                    "lines": batch,
                },
            )
        await database_sync_to_async(builds.build_finish)(
            deployment_id=building.pk, status="failed", error="x"
        )
        events = await collect(comm, timeout=20)
        assert log_seqs(events) == list(range(1, 3001))
        assert [e["message"] for e in events if e["type"] == "log"][-1] == "line 3000"
        await comm.disconnect()

    asyncio.run(scenario())


def test_lines_no_broadcast_reaches_are_read_from_the_database(alice, building):
    async def scenario():
        comm = communicator(building, alice)
        await comm.connect()
        await collect(comm, until="status_update")
        await database_sync_to_async(write_lines)(
            building.pk, ["quiet 1", "quiet 2"], broadcast=False
        )
        # Read back once the stream has been quiet a moment (longer with a shared layer).
        events = [await comm.receive_json_from(timeout=5) for _ in range(2)]
        assert [e["message"] for e in events] == ["quiet 1", "quiet 2"]
        await comm.disconnect()

    asyncio.run(scenario())


def messages_before_complete(events) -> list[str]:
    assert events[-1]["type"] == "deployment_complete"
    return [e["message"] for e in events if e["type"] == "log"]


def test_the_reapers_reason_arrives_before_deployment_complete(alice, building):
    """A viewer that stops on deployment_complete has read why the build failed."""
    write_lines(building.pk, ["compiling"])
    Deployment.objects.filter(pk=building.pk).update(
        heartbeat_at=timezone.now() - timezone.timedelta(minutes=5)
    )

    async def scenario():
        comm = communicator(building, alice)
        await comm.connect()
        await collect(comm, until="status_update")
        reaped = await database_sync_to_async(builds.builds_reap)(stale_after=60)
        assert reaped == [building.pk]
        messages = messages_before_complete(await collect(comm))
        assert messages[-2:] == [builds.LOG_INCOMPLETE, builds.REAPED]
        await comm.disconnect()

    asyncio.run(scenario())


def test_a_build_cancelled_while_running_completes_after_its_last_line(alice, building):
    """The cancel answers at once; the stream ends only after the builder's own last line."""

    async def scenario():
        comm = communicator(building, alice)
        await comm.connect()
        await collect(comm, until="status_update")
        await database_sync_to_async(builds.deployment_cancel)(deployment=building, user=alice)
        status = await comm.receive_json_from(timeout=5)
        assert status == {"type": "status_update", "status": "cancelled", "stage": "Cancelled"}
        assert await comm.receive_nothing(timeout=1)  # the builder has not stopped yet
        await database_sync_to_async(write_lines)(building.pk, ["Build stopped."])
        await database_sync_to_async(builds.build_finish)(
            deployment_id=building.pk, status="cancelled", build_duration=3
        )
        messages = messages_before_complete(await collect(comm))
        assert messages == ["Build stopped."]
        await comm.disconnect()

    asyncio.run(scenario())


TRICKY = [
    'quotes " and \\ backslashes \\N \\t',
    "a\ttab, a carriage\rreturn",
    "unicode: é ✓ 🚀 \u2028 \u2029 \x1b[31mred\x1b[0m",
    '{"type":"log","seq":0}',
    "",
    "nul \x00 byte",
]


def test_any_text_arrives_and_is_stored_as_it_was_written(alice, building):
    """Live (the worker's pre-encoded events) and read back (the backlog), a line arrives as it
    was written, whatever it holds; a NUL byte, which the database cannot store, as U+FFFD."""
    expected = [text.replace("\x00", "\ufffd") for text in TRICKY]

    def write():
        writer = LogWriter(building.pk)
        writer.write_lines(list(TRICKY))
        writer.flush()

    async def scenario():
        live = communicator(building, alice, "?batch=1")
        await live.connect()
        await collect(live, until="status_update")
        await database_sync_to_async(write)()
        event = await live.receive_json_from()
        assert [line["message"] for line in event["lines"]] == expected
        await live.disconnect()
        backlog = communicator(building, alice)
        await backlog.connect()
        events = await collect(backlog, until="status_update")
        assert [e["message"] for e in events if e["type"] == "log"] == expected
        assert events[0]["timestamp"].endswith("Z")
        await backlog.disconnect()

    asyncio.run(scenario())
    stored = LogLine.objects.filter(deployment=building).order_by("seq")
    assert list(stored.values_list("message", flat=True)) == expected
