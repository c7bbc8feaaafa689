"""Bandwidth per site per day, counted by the embedded server and read from nginx's log."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.models import SiteBandwidth
from hosting.serving.bandwidth import access_log_read
from hosting.serving.edge import edge_access_log, edge_sync
from hosting.tests.serving_support import asgi_get
from hosting.tests.test_edge import edge  # noqa: F401 - fixture
from hosting.tests.test_serving_embedded import django_stub, router  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b"x" * 1000


def totals(site):
    row = SiteBandwidth.objects.filter(site=site).first()
    return (row.bytes_sent, row.requests) if row else (0, 0)


def test_embedded_server_counts_in_memory_and_flushes(router, alice):  # noqa: F811
    site = make_site(alice, slug="counted")
    deployment_publish(site=site, files=files({"index.html": BODY}), source="upload")
    for _ in range(5):
        asgi_get(router, "counted.localhost", "/")
    asgi_get(router, "counted.localhost", "/", method="HEAD")  # no body, one request
    assert totals(site) == (0, 0)  # nothing written per request
    server = router.site_server
    assert server.counter.flush() == 1
    assert totals(site) == (5000, 6)
    asgi_get(router, "counted.localhost", "/")
    server.counter.flush()
    assert totals(site) == (6000, 7)
    assert SiteBandwidth.objects.filter(site=site).count() == 1


def test_embedded_server_flushes_on_its_own(router, alice, settings):  # noqa: F811
    site = make_site(alice, slug="periodic")
    deployment_publish(site=site, files=files({"index.html": BODY}), source="upload")
    server = router.site_server
    server.flush_interval = 0

    async def requests_then_wait():
        from hosting.tests.serving_support import asgi_get as _unused  # noqa: F401

        for _ in range(3):
            scope = {
                "type": "http",
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": "/",
                "raw_path": b"/",
                "query_string": b"",
                "headers": [(b"host", b"periodic.localhost")],
            }

            async def receive():
                return {"type": "http.request", "body": b""}

            async def send(message):
                pass

            await router(scope, receive, send)
            if server._flush_task is not None:
                await server._flush_task

    server._flush_task = None
    async_to_sync(requests_then_wait)()
    server.counter.flush()
    assert totals(site) == (3000, 3)


def test_edge_access_log_is_read_from_where_it_stopped(edge, alice, settings):  # noqa: F811
    site = make_site(alice, slug="logged")
    deployment_publish(site=site, files=files({"index.html": BODY}), source="upload")
    edge_sync()
    nginx = edge()
    for _ in range(4):
        assert nginx.get("logged.localhost", "/").status == 200
    nginx.get("logged.localhost", "/", method="HEAD")
    nginx.get("unknown.localhost", "/")  # no site: not counted
    log = edge_access_log()
    wait_lines(log, 6)
    assert access_log_read(log) == 5
    assert totals(site) == (4000, 5)
    assert access_log_read(log) == 0  # nothing new, nothing counted twice

    # Rotation: the old file is renamed, nginx reopens its log; lines on both sides count.
    nginx.get("logged.localhost", "/")
    wait_lines(log, 7)
    os.rename(log, str(log) + ".1")
    os.kill(nginx.proc.pid, signal.SIGUSR1)
    wait_exists(log, nginx)
    nginx.get("logged.localhost", "/")
    # A worker that has not reopened its log yet writes to the rotated file: both are read.
    wait_mentions([Path(str(log) + ".1"), log], str(site.pk), 7)
    assert access_log_read(log) == 2
    assert totals(site) == (6000, 7)


def wait_lines(path: Path, count: int, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} has fewer than {count} lines")


def wait_mentions(paths: list[Path], text: str, count: int, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sum(p.read_text().count(text) for p in paths if p.exists())
        if found >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} lines mention {text}")


def wait_exists(path: Path, nginx, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not path.exists():
        nginx.get("unknown.localhost", "/")
        time.sleep(0.05)
    # The unknown-host requests above are logged without a site: they are not counted.
