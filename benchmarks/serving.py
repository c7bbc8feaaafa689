"""Requests per second serving a site: embedded server vs the nginx edge vs a bare nginx.

Run: python benchmarks/serving.py [--duration 5] [--rounds 3] [--connections 64]
        [--port 9950] [--only edge,uvicorn]

One published site with a small HTML page and a 1 MiB asset, served in the same run by the
embedded site server (under uvicorn and under daphne, one process each, started with the
command ``manage.py serve`` gives them), by nginx with the config ``edge_sync`` renders, and
by a bare nginx serving a plain copy of the same files (same worker count). wrk (Debian
package) drives each for the given duration; the figures and the ratios are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

HOST = "bench.localhost"
PAGE = (
    b"<!doctype html><html><head><title>Bench</title></head><body>"
    + b"<p>A small page served again and again.</p>" * 40
    + b"</body></html>"
)
ASSET = os.urandom(1024 * 1024)
TARGETS = {"page": "/", "asset": "/assets/blob.3f2a9c1b.bin"}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_seconds(pid: int) -> float:
    """CPU time used by a server process and its direct children (nginx's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def wrk(port: int, path: str, duration: int, connections: int, pid: int = 0):
    """(requests per second, server CPU microseconds per request)."""
    before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "-H",
            f"Host: {HOST}",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} failed responses on port {port}{path}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    used = (cpu_seconds(pid) - before) if pid else 0.0
    return rate, used * 1e6 / max(count, 1)


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@contextlib.contextmanager
def signals_held():
    """Hold back Ctrl+C, SIGTERM and SIGHUP (delivered when the block ends)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def die_with_parent() -> None:
    """In a started server: SIGTERM when the benchmark dies, even by SIGKILL (Linux)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


def stop(processes) -> None:
    """SIGTERM each server's process group, SIGKILL what is still there after 10 s."""
    for proc in processes:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def bare_nginx(work: Path, port: int, logging: bool = True) -> Path:
    """A minimal nginx serving a plain directory with the same two files.

    With ``logging`` it keeps nginx's default access log (combined format, unbuffered), as a
    config without an ``access_log`` line does; without, it logs nothing.
    """
    root = work / ("bare" if logging else "bare-nolog")
    (root / "www" / "assets").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "www" / "index.html").write_bytes(PAGE)
    (root / "www" / "assets" / "blob.3f2a9c1b.bin").write_bytes(ASSET)
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = root / "nginx.conf"
    config.write_text(
        f"""{user}worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log {f"{root}/logs/access.log combined" if logging else "off"};
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--port", type=int, default=0, help="first of five ports to use (default: free ones)"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated servers (bare,bare-nolog,edge,uvicorn,daphne)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    _env.stop_on_signals()

    every = ("bare", "bare-nolog", "edge", "uvicorn", "daphne")
    names = tuple(n for n in every if not args.only or n in args.only.split(","))
    ports = {name: args.port + i if args.port else free_port() for i, name in enumerate(every)}
    os.environ["EDGE_LISTEN"] = f"127.0.0.1:{ports['edge']}"
    os.environ["EDGE_NGINX_USER"] = "root" if os.geteuid() == 0 else ""
    os.environ["SERVING_BANDWIDTH_FLUSH"] = "3600"
    work = _env.setup("serving")

    from controlpanel.management.commands.serve import Command as Serve
    from deployments.services import deployment_publish
    from hosting.services import site_create
    from hosting.serving.edge import edge_config_path, edge_sync

    site = site_create(owner=_env.owner(), name="Bench", slug="bench")
    files = {"index.html": PAGE, "assets/blob.3f2a9c1b.bin": ASSET}
    deployment_publish(
        site=site,
        files=[(p, (lambda d=d: io.BytesIO(d))) for p, d in files.items()],
        source="upload",
    )
    edge_sync(reload=False)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    env = {**os.environ, "PYTHONPATH": str(_env.ROOT)}

    def embedded(server: str) -> list[str]:  # what ``manage.py serve`` runs
        program = Serve().web_program("127.0.0.1", ports[server], server, {})
        env.update(program.environment)
        return list(program.command)

    procs = {
        "uvicorn": embedded("uvicorn"),
        "daphne": embedded("daphne"),
        "edge": [nginx, "-p", str(work / "edge"), "-c", str(edge_config_path()), "-g",
                 "daemon off;"],
        "bare": [nginx, "-c", str(bare_nginx(work, ports["bare"])), "-g", "daemon off;"],
        "bare-nolog": [nginx, "-c", str(bare_nginx(work, ports["bare-nolog"], logging=False)),
                       "-g", "daemon off;"],
    }  # fmt: skip
    procs = {name: command for name, command in procs.items() if name in names}
    running: dict[str, subprocess.Popen] = {}
    try:
        for name, command in procs.items():
            with signals_held():  # a signal now would leave a server started but not listed
                running[name] = subprocess.Popen(
                    command,
                    cwd=_env.ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
            wait_port(ports[name])
        # The machine is shared: servers take turns, several rounds, and the best round of
        # each counts (other load only ever lowers a figure).
        results: dict[tuple[str, str], float] = {}
        cpu: dict[tuple[str, str], float] = {}
        for target, path in TARGETS.items():
            for name in names:
                wrk(ports[name], path, 1, args.connections)  # warm up caches
            for _ in range(args.rounds):
                for name in names:
                    rate, cost = wrk(
                        ports[name], path, args.duration, args.connections, running[name].pid
                    )
                    results[(name, target)] = max(results.get((name, target), 0), rate)
                    cpu[(name, target)] = min(cpu.get((name, target), 1e9), cost)
        load = os.getloadavg()[0]
        print(
            f"\nwrk -t2 -c{args.connections} -d{args.duration}s, best of {args.rounds} rounds, "
            f"{os.cpu_count()} CPUs, server and wrk on the same machine, load {load:.1f}\n"
        )
        print(
            f"{'server':<28}{'page (2 KiB) req/s':>20}{'CPU us/req':>12}"
            f"{'asset (1 MiB) req/s':>22}{'CPU us/req':>12}"
        )
        labels = {
            "bare": "bare nginx",
            "bare-nolog": "bare nginx, no access log",
            "edge": "nginx edge (generated)",
            "uvicorn": "embedded, uvicorn",
            "daphne": "embedded, daphne",
        }
        for name in names:
            print(
                f"{labels[name]:<28}{results[(name, 'page')]:>20,.0f}{cpu[(name, 'page')]:>12.1f}"
                f"{results[(name, 'asset')]:>22,.0f}{cpu[(name, 'asset')]:>12.1f}"
            )
        print()
        for target in TARGETS:
            edge = results.get(("edge", target))
            if edge and "bare" in names:
                bare = results[("bare", target)]
                print(f"{target}: edge / bare nginx = {edge / bare:.2f}  (target >= 0.9)")
                by_cpu = cpu[("bare", target)] / cpu[("edge", target)]
                print(f"{target}: edge / bare nginx by server CPU per request = {by_cpu:.2f}")
            if edge and "bare-nolog" in names:
                nolog = results[("bare-nolog", target)]
                print(f"{target}: edge / bare nginx without access log = {edge / nolog:.2f}")
            for name, goal in (("uvicorn", 0.2), ("daphne", 0.05)):
                if edge and name in names:
                    ratio = results[(name, target)] / edge
                    print(
                        f"{target}: embedded ({name}) / nginx edge = {ratio:.3f}"
                        f"  (target >= {goal})"
                    )
    finally:
        with signals_held():  # a second Ctrl+C must not cut the clean-up short
            stop(running.values())
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
