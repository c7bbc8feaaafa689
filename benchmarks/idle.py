"""Berth at rest and restarting: idle memory, and restart to the first 200 on /health.

Run: python benchmarks/idle.py [--port 9710] [--settle 30] [--restarts 2]
     python benchmarks/idle.py --full-stack [--port 9710] [--settle 30] [--web-workers 2]

Starts ``scripts/run.sh`` (the embedded default: SQLite and files under a throwaway
``BERTH_VAR_DIR``, no DATABASE_URL or REDIS_URL) and prints:

- the first start's time to a 200 on ``/health`` (migrations and static files included);
- after ``--settle`` seconds at rest, every process of the instance (found by its
  ``BERTH_VAR_DIR`` in their environment) with its RSS and PSS, and the sums (goal: RSS
  ≤ 250 MiB), after the first start and again after the last restart;
- then ``--restarts`` times: stop it (SIGTERM, as Ctrl+C) and start it again on the same
  folder, the time from the command to the first 200 on ``/health`` (goal ≤ 5 s), and the CPU
  time the instance's processes had spent by then (what a quiet machine's wall time would be
  near; the machine's load stretches the wall time, not this).

``--full-stack`` runs instead the services of docker-compose.yml that hold the panel and its
background work, with the commands compose gives them (read from the file; addresses, ports
and paths made local): gunicorn with ``--web-workers`` workers (goal's figure: 2), daphne,
the Celery worker and, if compose still has one, beat, against this machine's PostgreSQL
(``--database-url``, default ``DATABASE_URL`` or a ``berth_idle`` database, created and
migrated as compose's migrate service does) and Redis (``REDIS_URL``). It prints every
process's RSS and PSS at rest, per service and in all (goal: RSS ≤ 500 MiB).

The machine's load average is printed first: start-up is CPU-bound (each Django start-up
costs about a second of CPU), so a loaded machine stretches it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import yaml

ROOT = Path(__file__).resolve().parent.parent
FULL_STACK_SERVICES = ("web", "ws", "worker", "beat")
SERVICE_VARIABLES = ("CELERY_SKIP_CHECKS",)  # of a service's own environment in compose
TICKS = os.sysconf("SC_CLK_TCK")


def instance_processes(var_dir: str) -> list[int]:
    marker = f"BERTH_VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def cpu_seconds(pid: int) -> float:
    """User + system time of a process (exec keeps counting: run.sh becomes supervisord)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def command_of(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [" ".join(w.decode(errors="replace").split()) for w in raw if w]
    return " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words))[:90]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(env: dict, port: int, timeout: float = 300) -> tuple[subprocess.Popen, float, str]:
    """Start scripts/run.sh; (process, seconds to the first 200, the CPU seconds each process
    had spent by then)."""
    started = time.monotonic()
    process = subprocess.Popen(
        ["scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while time.monotonic() - started < timeout:
        if healthy(port):
            took = time.monotonic() - started
            spent = {pid: cpu_seconds(pid) for pid in instance_processes(env["BERTH_VAR_DIR"])}
            parts = ", ".join(
                f"{command_of(pid).split(' -m ')[-1].split()[0]} {cpu:.1f}"
                for pid, cpu in sorted(spent.items())
            )
            return process, took, f"{sum(spent.values()):.1f} s ({parts})"
        if process.poll() is not None:
            raise SystemExit(f"scripts/run.sh ended with {process.returncode}")
        time.sleep(0.1)
    stop(process, env["BERTH_VAR_DIR"])
    raise SystemExit(f"no 200 on /health within {timeout:.0f} s")


def stop(process: subprocess.Popen, var_dir: str) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    deadline = time.monotonic() + 30
    while instance_processes(var_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in instance_processes(var_dir):  # nothing of the instance may outlive the run
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def report_memory(
    var_dir: str, settle: float, when: str, goal: int = 250, groups: dict | None = None
) -> None:
    """Every process of the instance with its RSS and PSS, and the sums; ``groups`` maps a
    service name to the pid of the process that leads it (its process group)."""
    time.sleep(settle)
    total_rss = total_pss = 0
    by_group: dict[str, list[int]] = {}
    pids = sorted(instance_processes(var_dir))
    print(f"at rest {settle:.0f} s {when}:")
    for pid in pids:
        rss, pss = memory_kib(pid)
        total_rss, total_pss = total_rss + rss, total_pss + pss
        print(
            f"  {pid:>7}  RSS {rss / 1024:6.1f} MiB  PSS {pss / 1024:6.1f} MiB  {command_of(pid)}"
        )
        for name, leader in (groups or {}).items():
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == leader:
                    sums = by_group.setdefault(name, [0, 0, 0])
                    sums[0], sums[1], sums[2] = sums[0] + 1, sums[1] + rss, sums[2] + pss
    for name, (count, rss, pss) in by_group.items():
        print(f"  {name}: {count} process(es), RSS {rss / 1024:.0f} MiB, PSS {pss / 1024:.0f} MiB")
    print(
        f"idle, {len(pids)} processes: RSS {total_rss / 1024:.0f} MiB, "
        f"PSS {total_pss / 1024:.0f} MiB (goal: RSS ≤ {goal} MiB)"
    )


def compose_commands(
    web_workers: int, port: int, var_dir: str
) -> dict[str, tuple[list[str], dict[str, str]]]:
    """The commands docker-compose.yml gives the panel's services, made local (addresses on
    loopback, this run's ports, /app/var paths in this run's folder), each with the variables
    of SERVICE_VARIABLES its service sets."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    commands = {}
    for name in FULL_STACK_SERVICES:
        if name not in services:
            continue
        command = [str(word).replace("/app/var", var_dir) for word in services[name]["command"]]
        for flag, value in (
            ("--bind", f"127.0.0.1:{port}"),
            ("--workers", str(web_workers)),
            ("-b", "127.0.0.1"),
            ("-p", str(port + 1)),
        ):
            if flag in command:
                command[command.index(flag) + 1] = value
        variables = services[name].get("environment") or {}
        own = {key: str(variables[key]) for key in SERVICE_VARIABLES if key in variables}
        commands[name] = ([sys.executable, "-m", *command], own)
    return commands


def full_stack_database(url: str, env: dict) -> None:
    """Create the database if it is missing and migrate it (compose's migrate service)."""
    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def full_stack(args, work: Path) -> None:
    var_dir = str(work / "var")
    env = {key: value for key, value in os.environ.items() if key not in ("S3_BUCKET", "PORT")}
    env.update(
        BERTH_READ_DOTENV="0",
        BERTH_VAR_DIR=var_dir,
        DATABASE_URL=args.database_url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        SERVER_HEARTBEATS="1",  # as compose sets it
        NUM_PROXIES="1",
        SECRET_KEY=os.environ.get("SECRET_KEY", "idle-benchmark-only"),
        ALLOWED_HOSTS="localhost,127.0.0.1",
    )
    full_stack_database(args.database_url, env)
    commands = compose_commands(args.web_workers, args.port, var_dir)
    processes: dict[str, subprocess.Popen] = {}
    try:
        started = time.monotonic()
        for name, (command, own) in commands.items():
            shown = " ".join(f"{key}={value}" for key, value in own.items())
            print(f"{name}: {shown + ' ' if shown else ''}{' '.join(command[2:])}")
            processes[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**env, **own},
                stdout=(work / f"{name}.log").open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ports = [args.port] + ([args.port + 1] if "ws" in commands else [])
        deadline = started + 300
        while not all(healthy(port) for port in ports):
            for name, process in processes.items():
                if process.poll() is not None:
                    raise SystemExit(f"{name} ended: {(work / f'{name}.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise SystemExit("no 200 on /health within 300 s")
            time.sleep(0.1)
        print(f"start to /health 200 (web and ws): {time.monotonic() - started:.1f} s")
        while " ready." not in (work / "worker.log").read_text(errors="replace"):
            if processes["worker"].poll() is not None or time.monotonic() > deadline:
                raise SystemExit((work / "worker.log").read_text()[-2000:])
            time.sleep(0.2)
        groups = {name: process.pid for name, process in processes.items()}
        report_memory(var_dir, args.settle, "(full stack)", goal=500, groups=groups)
    finally:
        for process in processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for pid in instance_processes(var_dir):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=9710)
    parser.add_argument("--settle", type=float, default=30)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--full-stack", action="store_true", help="compose's services instead")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/berth_idle"),
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="berth-idle-"))
    if args.full_stack:
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for each in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(each, lambda signum, frame: sys.exit(128 + signum))
        try:
            full_stack(args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    var_dir = str(work / "var")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET", "SECRET_KEY", "PORT")
    }
    env.update(BERTH_READ_DOTENV="0", BERTH_VAR_DIR=var_dir, PORT=str(args.port))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for each in (signal.SIGTERM, signal.SIGHUP):  # stop the instance as Ctrl+C does
        signal.signal(each, lambda signum, frame: sys.exit(128 + signum))
    process = None
    try:
        process, first, cpu = start(env, args.port)
        print(f"first start (migrate, static files) to /health 200: {first:.1f} s, CPU {cpu}")
        report_memory(var_dir, args.settle, "after the first start")
        for n in range(args.restarts):
            stop(process, var_dir)
            process = None
            process, took, cpu = start(env, args.port)
            print(
                f"restart {n + 1} to /health 200: {took:.1f} s (goal ≤ 5 s), CPU {cpu} "
                f"(load {os.getloadavg()[0]:.1f})"
            )
        if args.restarts:
            report_memory(var_dir, args.settle, "after the last restart")
    finally:
        if process is not None:
            stop(process, var_dir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
