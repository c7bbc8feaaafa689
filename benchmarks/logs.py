"""Live log delivery: lines per second to a WebSocket client, and the delay from the build
printing a line to the client receiving it (p50/p95), through a real daphne and worker.

Builds: a burst of 50,000 lines printed as fast as possible (throughput), followed by a client
that asks for lines several to a message (``?batch=1``, as the panel's log page does) and by
one that takes one message per line (the Autostack client's events); and 2,000 lines paced
one per millisecond (delay). Every run checks that no line is lost or repeated.
Run: ``python benchmarks/logs.py`` (embedded; with DATABASE_URL and REDIS_URL the full stack).
"""

from __future__ import annotations

import json
import os
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


def run(
    client, port: int, token: str, repo: Path, batch: bool = False
) -> tuple[list[float], float, int]:
    from websockets.sync.client import connect

    response = client.post(
        "/api/deployments",
        {"repository": repo.as_uri(), "buildCommand": "./build.sh", "outputDir": "dist"},
        format="json",
    )
    pk = response.json()["id"]
    url = f"ws://127.0.0.1:{port}/api/deployments/{pk}/logs/stream?token={token}"
    if batch:
        url += "&batch=1"
    delays, first, last, count, seqs = [], None, None, 0, []
    with connect(url, origin="http://localhost:8000", max_size=None) as socket:
        while True:
            event = json.loads(socket.recv(timeout=120))
            now = time.time()
            if event["type"] == "deployment_complete":
                break
            lines = event["lines"] if event["type"] == "logs" else [event]
            for line in lines:
                if line["type"] != "log":
                    continue
                seqs.append(line["seq"])
                parts = line["message"].split()
                if len(parts) == 2 and parts[0].isdigit():
                    delays.append(now - float(parts[1]))
                    first = first or now
                    last = now
                    count += 1
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "lines lost or repeated"
    return delays, (last - first) if first else 0.0, count


def cpu_seconds(group: int) -> float:
    """User + system CPU time of every process in a process group (daphne; the worker and its
    pool), from /proc: steadier than a rate on a machine shared with other work."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


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
        print(f"Load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        run(client, port, token, paced)  # warm-up
        for batch, who in (
            (True, "lines batched (?batch=1, the log page)"),
            (False, "one per message"),
        ):
            before = cpu_seconds(daphne.proc.pid), cpu_seconds(worker.proc.pid)
            delays, span, count = run(client, port, token, burst, batch=batch)
            web, builder = (
                cpu_seconds(p) - b
                for p, b in zip((daphne.proc.pid, worker.proc.pid), before, strict=True)
            )
            print(
                f"Burst, {who}: {count} lines delivered in {span:.2f} s = "
                f"{count / span:,.0f} lines/s"
            )
            print(f"  delay print -> client: {summary(delays)}")
            print(
                f"  CPU per line: web process {web / count * 1e6:.1f} µs, "
                f"worker {builder / count * 1e6:.1f} µs (the whole build, clone and publish too)"
            )
        for batch in (True, False):
            delays, span, count = run(client, port, token, paced, batch=batch)
            print(
                f"Paced (1 line/ms), {'batched' if batch else 'one per message'}: {count} lines, "
                f"delay print -> client: {summary(delays)}"
            )
    finally:
        daphne.stop()
        worker.stop()


if __name__ == "__main__":
    main()
