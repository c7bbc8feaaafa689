"""Many viewers of one build's live log through one daphne process: do they all connect at
once, and does every one get every line once, in order?

``CLIENTS`` WebSocket clients (200 by default) open ``/api/deployments/<id>/logs/stream``
together while a build prints ``LINES`` lines over about 20 seconds. A client whose handshake
fails or times out, or whose connection drops, reconnects with ``?after=<last seq>`` after
0.5 s, doubling up to 10 s (as the panel's log page does), and the reconnect is counted.
Prints the handshake times, the reconnects, and checks that each client received lines 1..N
exactly once. Clients ask for lines several to a message (``?batch=1``) as the log page does;
``--per-line`` makes them take one message per line (the Autostack client's events). Run:
``python benchmarks/log_clients.py [clients] [--per-line]`` (embedded by default; with
DATABASE_URL and REDIS_URL, the full stack: use a database of its own).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from _builds import make_repo, setup, start_daphne, start_worker, summary, user_and_token

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
CLIENTS = int(ARGS[0]) if ARGS else 200
PER_LINE = "--per-line" in sys.argv
LINES = 2000
OPEN_TIMEOUT = 10  # seconds a client waits for its handshake, as a browser would
PRINTER = (
    "#!/bin/sh\n"
    "python3 -c 'import time\n"
    "for i in range({count}):\n"
    '    print("line", i, flush=True)\n'
    "    time.sleep(0.01)\n'\n"
    "mkdir -p dist && echo ok > dist/index.html\n"
)


class Viewer:
    def __init__(self, url: str):
        self.url = url
        self.seqs: list[int] = []
        self.handshakes: list[float] = []
        self.reconnects = 0
        self.timeouts = 0
        self.errors: list[str] = []
        self.delay = 0.5

    async def follow(self) -> None:
        from websockets.asyncio.client import connect

        while True:
            after = self.seqs[-1] if self.seqs else 0
            started = time.monotonic()
            try:
                async with connect(
                    f"{self.url}&after={after}",
                    origin="http://localhost:8000",
                    open_timeout=OPEN_TIMEOUT,
                    max_size=None,
                ) as socket:
                    self.handshakes.append(time.monotonic() - started)
                    self.delay = 0.5
                    async for raw in socket:
                        event = json.loads(raw)
                        if event["type"] == "logs":
                            self.seqs.extend(line["seq"] for line in event["lines"])
                        elif event["type"] == "log":
                            self.seqs.append(event["seq"])
                        elif event["type"] == "deployment_complete":
                            return
            except TimeoutError:
                self.timeouts += 1
            except Exception as exc:  # a refused or dropped connection: reconnect, as a page does
                self.errors.append(exc.__class__.__name__)
            self.reconnects += 1
            await asyncio.sleep(self.delay)  # the log page's policy: 0.5 s, doubling to 10 s
            self.delay = min(self.delay * 2, 10)


async def watch(url: str) -> tuple[list[Viewer], float]:
    viewers = [Viewer(url) for _ in range(CLIENTS)]
    started = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(v.follow() for v in viewers)), timeout=300)
    except TimeoutError:
        print("Gave up after 300 s: the clients below had not all seen the build complete")
    return viewers, time.monotonic() - started


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop daphne and the worker too
    var = setup()
    from rest_framework.test import APIClient

    from deployments.models import LogLine

    _, token = user_and_token("log-clients-bench@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    repo = make_repo(Path(var) / "printer", {"build.sh": PRINTER.format(count=LINES)})
    worker = start_worker(var)
    daphne, port = start_daphne(var)
    try:
        response = client.post(
            "/api/deployments",
            {"repository": repo.as_uri(), "buildCommand": "./build.sh", "outputDir": "dist"},
            format="json",
        )
        pk = response.json()["id"]
        url = f"ws://127.0.0.1:{port}/api/deployments/{pk}/logs/stream?token={token}"
        url += "" if PER_LINE else "&batch=1"
        viewers, span = asyncio.run(watch(url))
        stored = list(
            LogLine.objects.filter(deployment_id=pk).order_by("seq").values_list("seq", flat=True)
        )
    finally:
        daphne.stop()
        worker.stop()
    complete = sum(v.seqs == stored for v in viewers)
    handshakes = [h for v in viewers for h in v.handshakes]
    errors: dict[str, int] = {}
    for viewer in viewers:
        for name in viewer.errors:
            errors[name] = errors.get(name, 0) + 1
    mode = "one message per line" if PER_LINE else "lines batched"
    print(f"Load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"{CLIENTS} clients ({mode}), {len(stored)} stored lines, followed for {span:.1f} s")
    print(f"  every line once, in order: {complete} of {CLIENTS} clients")
    if handshakes:
        slowest = max(handshakes)
        print(f"  handshakes: {len(handshakes)}, {summary(handshakes)}, max {slowest:.2f} s")
    print(
        f"  reconnects: {sum(v.reconnects for v in viewers)} "
        f"(handshake timeouts {sum(v.timeouts for v in viewers)}, other errors {errors or 0})"
    )


if __name__ == "__main__":
    main()
