"""Rollback to served: from the rollback service call returning to the rolled-back release
answering, through the nginx edge and through the embedded site server, in the same run.

Run: python benchmarks/rollback.py [--rollbacks 40] [--files 200] [--redis-url URL]
                                   [--port 9900]

One site with ``--files`` files and two releases whose home pages differ. It is rolled back
``--rollbacks`` times, alternately to each, by ``deployment_rollback`` (what the API calls);
two threads then ask for the home page, one from nginx running the config ``edge_sync``
renders, one from the embedded site server (uvicorn, the site server of the embedded
default, in its own process), each over a kept-alive connection, until each answers with the
release just restored. The edge is kept in sync by each of its followers in turn:

- ``worker``: a Celery worker consuming the edge queue, as the compose file's edge container
  runs (the panel queues ``hosting.edge_sync`` on every change);
- ``watch``: ``manage.py edge_sync --watch``, following the serving change feed.

Prints the p50, p90 and max per follower and for the embedded server. The change feed needs
Redis (``--redis-url``, default ``$REDIS_URL`` or redis://127.0.0.1:6379/0; the stream key
is this run's own); the database is SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

HOST = "bench.localhost"
TIMEOUT = 10.0


def wait_port(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def release(files: int, label: bytes) -> dict[str, bytes]:
    tree = {"index.html": b"<!doctype html><title>Bench</title><p>release " + label}
    for n in range(files - 1):
        tree[f"pages/p{n % 10}/page{n}.html"] = f"<p>page {n}</p>".encode() * (10 + n % 30)
    return tree


class Poller:
    """Asks one server for the home page until it answers with the expected body."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def get(self) -> bytes:
        for attempt in (1, 2):
            try:
                self.conn.request("GET", "/", headers={"Host": HOST})
                response = self.conn.getresponse()
                return response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                if attempt == 2:
                    raise
        return b""

    def until(self, body: bytes, start: float, out: dict, name: str) -> None:
        while time.perf_counter() - start < TIMEOUT:
            if self.get() == body:
                out[name] = time.perf_counter() - start
                return
            time.sleep(0.0005)
        out[name] = None


def figures(samples: list) -> str:
    done = sorted(s * 1000 for s in samples if s is not None)
    missed = len(samples) - len(done)
    if not done:
        return f"never served ({missed} missed)"
    p90 = done[min(len(done) - 1, int(len(done) * 0.9))]
    text = f"p50 {statistics.median(done):7.1f} ms  p90 {p90:7.1f} ms  max {done[-1]:7.1f} ms"
    return text + (f"  ({missed} not served within {TIMEOUT:.0f} s)" if missed else "")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rollbacks", type=int, default=40)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--port", type=int, default=9900, help="first of three ports used")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--followers", default="worker,watch")
    args = parser.parse_args()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    edge_port, tls_port, embedded_port = args.port, args.port + 1, args.port + 2
    tag = f"rollback-bench-{os.getpid()}"
    os.environ.update(
        EDGE_LISTEN=f"127.0.0.1:{edge_port}",
        EDGE_LISTEN_TLS=f"127.0.0.1:{tls_port}",
        EDGE_NGINX_USER="root" if os.geteuid() == 0 else "",
        EDGE_ENABLED="1",
        EDGE_QUEUE=tag,
        CACHE_KEY_PREFIX=tag,
        SERVING_BANDWIDTH_FLUSH="3600",
    )
    running: list[subprocess.Popen] = []
    _env.stop_on_signals()  # SIGTERM and SIGHUP stop the servers on the way out, as Ctrl+C
    work = _env.setup("rollback", redis_url=args.redis_url)
    try:
        run(args, work, nginx, edge_port, embedded_port, tag, running)
    finally:
        for process in reversed(running):
            stop(process)
        import redis

        client = redis.Redis.from_url(args.redis_url)
        for key in client.scan_iter(f"*{tag}*"):
            client.delete(key)
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path, nginx: str, edge_port: int, embedded_port: int, tag, running) -> None:
    from django.conf import settings

    from deployments.services import deployment_publish, deployment_rollback
    from hosting.services import site_create
    from hosting.serving.edge import edge_config_path, edge_sync

    site = site_create(owner=_env.owner(), name="Bench", slug="bench")
    releases = []
    for label in (b"A", b"B"):
        tree = release(args.files, label)
        deployment = deployment_publish(
            site=site,
            files=[(p, (lambda d=d: io.BytesIO(d))) for p, d in tree.items()],
            source="upload",
        )
        releases.append((deployment, tree["index.html"]))
    edge_sync(reload=False)
    env = {**os.environ, "PYTHONPATH": str(_env.ROOT)}

    def start(command: list[str]) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=_env.ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        running.append(process)
        return process

    start([nginx, "-p", str(work / "edge"), "-c", str(edge_config_path()), "-g", "daemon off;"])
    wait_port(edge_port)
    from controlpanel.management.commands.serve import Command as Serve

    # The embedded server as ``manage.py serve`` starts it.
    start(list(Serve().web_program("127.0.0.1", embedded_port, "uvicorn", {}).command))
    wait_port(embedded_port)
    followers = {
        "worker": [sys.executable, "-m", "celery", "-A", "controlpanel", "worker", "-Q", tag,
                   "--concurrency=1", "--loglevel=WARNING"],
        "watch": [sys.executable, "manage.py", "edge_sync", "--watch", "--no-reload"],
    }  # fmt: skip
    edge, embedded = Poller(edge_port), Poller(embedded_port)
    results: dict[str, list] = {}
    current = 1  # the second release is live
    for name in args.followers.split(","):
        # The panel queues an edge sync on every change only for the Celery follower.
        settings.EDGE_ENABLED = name == "worker"
        follower = start(followers[name])
        time.sleep(8 if name == "worker" else 4)  # let it start and finish its first sync
        for n in range(args.rollbacks + 2):
            current = 1 - current
            deployment, body = releases[current]
            out: dict = {}
            deployment_rollback(deployment=deployment)
            start_time = time.perf_counter()
            threads = [
                threading.Thread(target=edge.until, args=(body, start_time, out, "edge")),
                threading.Thread(target=embedded.until, args=(body, start_time, out, "embedded")),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if n >= 2:  # the first two warm up
                results.setdefault(f"nginx edge, {name}", []).append(out["edge"])
                results.setdefault("embedded (uvicorn)", []).append(out["embedded"])
            time.sleep(0.3)
        stop(follower)
    load = os.getloadavg()
    print(
        f"\n{args.rollbacks} rollbacks per follower, {args.files} files a release, "
        f"{os.cpu_count()} CPUs, load {load[0]:.1f} {load[1]:.1f}, "
        f"SERVING_CHECK_INTERVAL_MS={settings.SERVING_CHECK_INTERVAL}\n"
    )
    print("rollback service call returned -> the restored release served:")
    for name, samples in results.items():
        print(f"  {name:<28} {figures(samples)}")


if __name__ == "__main__":
    main()
