"""Live log delivery through the whole stack: a build's burst of lines, from the build printing
them to a WebSocket client receiving them, in lines per second, with every line checked.

A real Celery worker runs the build (clone, sandbox, the build command printing as fast as it
can, publish); the worker stores the lines in the database and announces them on the channel
layer; a real daphne (or uvicorn, ``--server uvicorn``, as ``manage.py serve`` runs it) sends
them to a ``websockets`` client. Full stack with DATABASE_URL and REDIS_URL set (PostgreSQL,
Redis channel layer; give it a database of its own: it migrates it and adds a user), embedded
without (SQLite, in-memory layer: lines reach the web process by the database path).

Clients: ``batch`` asks for lines several to a message (``?batch=1``, as the panel's log page
does); ``per-line`` takes one message per line (the Autostack client's events). Each burst
prints the lines per second (first line received to last), the loss (lines the build printed
that the client did not get, got twice or out of order: must be 0), the delay from print to
client, and the CPU time per line of the web process, the worker (its whole build included)
and the database's backends (sampled from /proc), which stay put under load when lines per
second do not. With ``--paced``, 2,000 lines printed one per millisecond measure the delay.

Run: ``python benchmarks/logs.py [--lines 50000] [--runs 3] [--clients batch,per-line]
[--server daphne|uvicorn] [--paced]``. Exits 1 if any line was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from _builds import make_repo, setup, start_web, start_worker, summary, user_and_token

PRINTER = (
    "#!/bin/sh\n"
    "python3 -c 'import sys,time\n"
    "for i in range({count}):\n"
    "    print(i, repr(time.time()), flush=True)\n"
    "    {pause}\n'\n"
    "mkdir -p dist && echo ok > dist/index.html\n"
)


class Result:
    def __init__(self):
        self.delays: list[float] = []
        self.printed: list[int] = []  # the build's own numbers, in the order received
        self.seqs: list[int] = []
        self.first = self.last = 0.0
        self.client_cpu = 0.0

    def loss(self, expected: int) -> tuple[int, int, bool]:
        """Lines missing, lines received more than once, and whether all came in order."""
        got = set(self.printed)
        missing = len(set(range(expected)) - got)
        repeated = len(self.printed) - len(got)
        in_order = self.printed == sorted(self.printed) and self.seqs == list(
            range(self.seqs[0], self.seqs[0] + len(self.seqs))
        )
        return missing, repeated, in_order

    @property
    def rate(self) -> float:
        span = self.last - self.first
        return len(self.printed) / span if span > 0 else 0.0


def run(client, port: int, token: str, repo: Path, batch: bool) -> Result:
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
    result = Result()
    cpu = time.thread_time()
    with connect(url, origin="http://localhost:8000", max_size=None) as socket:
        while True:
            event = json.loads(socket.recv(timeout=300))
            now = time.time()
            if event["type"] == "deployment_complete":
                break
            lines = event["lines"] if event["type"] == "logs" else [event]
            for line in lines:
                if line["type"] != "log":
                    continue
                result.seqs.append(line["seq"])
                parts = line["message"].split()
                if len(parts) == 2 and parts[0].isdigit():
                    result.delays.append(now - float(parts[1]))
                    result.printed.append(int(parts[0]))
                    result.first = result.first or now
                    result.last = now
    result.client_cpu = time.thread_time() - cpu
    return result


def stat_cpu(stat: Path) -> tuple[int, int]:
    """(process group, user + system CPU ticks) of one /proc/<pid>/stat."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[2]), int(fields[11]) + int(fields[12])


def cpu_seconds(group: int) -> float:
    """User + system CPU time of every process in a process group (the web server; the worker
    and its pool), from /proc: steadier than a rate on a machine shared with other work."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pgrp, ticks = stat_cpu(stat)
        except (OSError, IndexError, ValueError):
            continue
        if pgrp == group:
            total += ticks
    return total / os.sysconf("SC_CLK_TCK")


class DatabaseCPU:
    """CPU time of the PostgreSQL backends serving one database (their process titles name
    it), sampled every 0.1 s while running: a backend's last 0.1 s before it exits is missed."""

    def __init__(self, database: str):
        self.marker = f" {database} "
        self.start: dict[int, int] = {}
        self.seen: dict[int, int] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _backends(self) -> dict[int, int]:
        found = {}
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if title.startswith("postgres:") and self.marker in title:
                    found[int(proc.name)] = stat_cpu(proc / "stat")[1]
            except (OSError, IndexError, ValueError, UnicodeDecodeError):
                continue
        return found

    def _sample(self):
        while not self.stop.wait(0.1):
            self.seen.update(self._backends())

    def __enter__(self):
        self.start = self._backends()
        self.seen = dict(self.start)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.seen.update(self._backends())

    @property
    def seconds(self) -> float:
        ticks = sum(cpu - self.start.get(pid, 0) for pid, cpu in self.seen.items())
        return ticks / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=50_000, help="lines in a burst")
    parser.add_argument("--runs", type=int, default=1, help="bursts per client kind")
    parser.add_argument(
        "--clients", default="batch,per-line", help="batch, per-line or both (comma-separated)"
    )
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--port", type=int, default=0, help="the web server's (default: free)")
    parser.add_argument("--paced", action="store_true", help="also 2,000 lines, 1 per ms")
    options = parser.parse_args()
    kinds = [kind.strip() for kind in options.clients.split(",") if kind.strip()]
    if not set(kinds) <= {"batch", "per-line"}:
        parser.error("--clients takes batch and per-line")

    var = setup()
    from rest_framework.test import APIClient

    _, token = user_and_token("logs-bench@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    burst = make_repo(
        Path(var) / "burst", {"build.sh": PRINTER.format(count=options.lines, pause="pass")}
    )
    paced = make_repo(
        Path(var) / "paced", {"build.sh": PRINTER.format(count=2_000, pause="time.sleep(0.001)")}
    )
    database = ""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        database = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    # Stopped by a signal, the servers are still stopped (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    worker = start_worker(var)
    web, port = start_web(var, options.server, options.port)
    lost = False
    try:
        print(f"Web server: {options.server}; load average at start: {load()}")
        run(client, port, token, paced, batch=True)  # warm-up
        for kind in kinds:
            rates = []
            for _ in range(options.runs):
                before = cpu_seconds(web.proc.pid), cpu_seconds(worker.proc.pid)
                with DatabaseCPU(database) as db:
                    result = run(client, port, token, burst, batch=kind == "batch")
                web_cpu, worker_cpu = (
                    cpu_seconds(p) - b
                    for p, b in zip((web.proc.pid, worker.proc.pid), before, strict=True)
                )
                missing, repeated, in_order = result.loss(options.lines)
                lost = lost or bool(missing or repeated) or not in_order
                count = max(len(result.printed), 1)
                rates.append(result.rate)
                print(
                    f"Burst, {kind} client (load {load()}): {len(result.printed)} lines "
                    f"in {result.last - result.first:.2f} s = {result.rate:,.0f} lines/s; "
                    f"lost {missing}, repeated {repeated}, "
                    f"{'in order' if in_order else 'OUT OF ORDER'}"
                )
                print(f"  delay print -> client: {summary(result.delays)}")
                figures = [
                    f"web process {web_cpu / count * 1e6:.1f}",
                    f"worker {worker_cpu / count * 1e6:.1f} (the whole build)",
                ]
                if database:
                    figures.append(f"PostgreSQL backends {db.seconds / count * 1e6:.1f}")
                figures.append(f"client {result.client_cpu / count * 1e6:.1f}")
                print(f"  CPU per line, µs: {', '.join(figures)}")
            if len(rates) > 1:
                print(f"  {kind}: median {statistics.median(rates):,.0f} lines/s")
        if options.paced:
            for kind in kinds:
                result = run(client, port, token, paced, batch=kind == "batch")
                print(
                    f"Paced (1 line/ms), {kind} client: {len(result.printed)} lines, "
                    f"delay print -> client: {summary(result.delays)}"
                )
    finally:
        web.stop()
        worker.stop()
    if lost:
        raise SystemExit("Lines were lost, repeated or out of order.")


if __name__ == "__main__":
    main()
