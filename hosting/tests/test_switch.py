"""Switching the live deployment under load: every answer is a whole old or a whole new file.

Two releases of the same site are made live in turn, many times, while clients keep asking for
its files — through the embedded site server and through nginx on the edge's symlink swaps.
No request may fail, and no body may be anything but one release's complete file.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from deployments.services import deployment_publish, deployment_rollback
from deployments.tests.factories import files, make_site
from hosting.serving.app import HostRouter
from hosting.serving.edge import edge_sync
from hosting.tests.serving_support import http_get
from hosting.tests.test_edge import edge  # noqa: F401  (the nginx fixture)
from hosting.tests.test_serving_contract import _no_django

pytestmark = pytest.mark.django_db(transaction=True)

SWITCHES = 12
# Large enough to be sent in several chunks, so a torn file would show.
RELEASES = {
    version: {
        "index.html": f"<!doctype html><p>release {version}</p>".encode() * 400,
        "app.js": (f"console.log('release {version}');\n" * 20000).encode(),
    }
    for version in ("one", "two")
}


def publish_both(alice, slug):
    site = make_site(alice, slug=slug)
    first = deployment_publish(site=site, files=files(RELEASES["one"]), source="upload")
    second = deployment_publish(site=site, files=files(RELEASES["two"]), source="upload")
    return first, second


def whole_release(path: str, body: bytes) -> str | None:
    for version, tree in RELEASES.items():
        if body == tree[path]:
            return version
    return None


async def asgi_request(app, host: str, path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_embedded_server_never_serves_a_mix(alice, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    first, second = publish_both(alice, "swap")
    router = HostRouter(_no_django)
    answers: list[tuple[str, int, str | None]] = []

    async def client(stop: asyncio.Event):
        while not stop.is_set():
            for path in ("/index.html", "/app.js"):
                status, body = await asgi_request(router, "swap.localhost", path)
                answers.append((path, status, whole_release(path.lstrip("/"), body)))
                # A cached answer never waits on I/O; a socket would let others run here.
                await asyncio.sleep(0)

    async def switcher(stop: asyncio.Event):
        for n in range(SWITCHES):
            target = first if n % 2 == 0 else second
            await sync_to_async(deployment_rollback, thread_sensitive=False)(deployment=target)
            await asyncio.sleep(0.02)
        stop.set()

    async def run():
        stop = asyncio.Event()
        await asyncio.gather(switcher(stop), *(client(stop) for _ in range(8)))

    asyncio.run(run())
    assert len(answers) > 50
    assert all(status == 200 for _, status, _ in answers), {s for _, s, _ in answers}
    assert all(version is not None for _, _, version in answers), "a torn or foreign body"
    assert {version for _, _, version in answers} == {"one", "two"}


def test_edge_symlink_swaps_never_serve_a_mix(edge, alice):  # noqa: F811
    first, second = publish_both(alice, "swapedge")
    edge_sync()
    nginx = edge()
    answers: list[tuple[str, int, str | None]] = []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            for path in ("/index.html", "/app.js"):
                answer = http_get(nginx.port, "swapedge.localhost", path)
                answers.append((path, answer.status, whole_release(path.lstrip("/"), answer.body)))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for n in range(SWITCHES):
            deployment_rollback(deployment=first if n % 2 == 0 else second)
            edge_sync()
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert len(answers) > 20
    assert all(status == 200 for _, status, _ in answers), {s for _, s, _ in answers}
    assert all(version is not None for _, _, version in answers), "a torn or foreign body"
    assert {version for _, _, version in answers} == {"one", "two"}
