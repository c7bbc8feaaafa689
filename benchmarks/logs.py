"""Live log delivery: lines per second to a WebSocket client, and the delay from the build
printing a line to the client receiving it (p50/p95), through a real daphne and worker.

Two builds: a burst of 50,000 lines printed as fast as possible (throughput), and 2,000 lines
paced one per millisecond (delay). Run: ``python benchmarks/logs.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from _builds import make_repo, setup, start_daphne, start_worker, summary, user_and_token

PRINTER = (
    "#!/bin/sh\n"
    "python3 -c 'import sys,time\n"
    "for i in range({count}):\n"
    "    print(i, repr(time.time()), flush=True)\n"
    "    {pause}\n'\n"
    "mkdir -p dist && echo ok > dist/index.html\n"
)


def run(client, port: int, token: str, repo: Path) -> tuple[list[float], float, int]:
    from websockets.sync.client import connect

    response = client.post(
        "/api/deployments",
        {"repository": repo.as_uri(), "buildCommand": "./build.sh", "outputDir": "dist"},
        format="json",
    )
    pk = response.json()["id"]
    url = f"ws://127.0.0.1:{port}/api/deployments/{pk}/logs/stream?token={token}"
    delays, first, last, count, seqs = [], None, None, 0, []
    with connect(url, origin="http://localhost:8000", max_size=None) as socket:
        while True:
            event = json.loads(socket.recv(timeout=120))
            now = time.time()
            if event["type"] == "deployment_complete":
                break
            if event["type"] != "log":
                continue
            seqs.append(event["seq"])
            parts = event["message"].split()
            if len(parts) == 2 and parts[0].isdigit():
                delays.append(now - float(parts[1]))
                first = first or now
                last = now
                count += 1
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "lines lost or repeated"
    return delays, (last - first) if first else 0.0, count


def main() -> None:
    var = setup()
    from rest_framework.test import APIClient

    _, token = user_and_token("logs-bench@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    burst = make_repo(Path(var) / "burst", {"build.sh": PRINTER.format(count=50_000, pause="pass")})
    paced = make_repo(
        Path(var) / "paced", {"build.sh": PRINTER.format(count=2_000, pause="time.sleep(0.001)")}
    )
    worker = start_worker(var)
    daphne, port = start_daphne(var)
    try:
        run(client, port, token, paced)  # warm-up
        delays, span, count = run(client, port, token, burst)
        print(f"Burst: {count} lines delivered in {span:.2f} s = {count / span:,.0f} lines/s")
        print(f"  delay print -> client: {summary(delays)}")
        delays, span, count = run(client, port, token, paced)
        print(f"Paced (1 line/ms): {count} lines, delay print -> client: {summary(delays)}")
    finally:
        daphne.stop()
        worker.stop()


if __name__ == "__main__":
    main()
