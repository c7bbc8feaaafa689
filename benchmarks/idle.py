"""The embedded default at rest and restarting: idle memory and restart to the first 200.

Run: python benchmarks/idle.py [--port 9710] [--settle 30] [--restarts 2]

Starts ``scripts/run.sh`` (the embedded default: SQLite and files under a throwaway
``BERTH_VAR_DIR``, no DATABASE_URL or REDIS_URL) and prints:

- the first start's time to a 200 on ``/health`` (migrations and static files included);
- after ``--settle`` seconds at rest, every process of the instance (found by its
  ``BERTH_VAR_DIR`` in their environment) with its RSS and PSS, and the sums (goal: RSS
  ≤ 250 MiB), after the first start and again after the last restart;
- then ``--restarts`` times: stop it (SIGTERM, as Ctrl+C) and start it again on the same
  folder, the time from the command to the first 200 on ``/health`` (goal ≤ 5 s).

The machine's load average is printed first: start-up is CPU-bound (each Django start-up
costs seconds of CPU), so a loaded machine stretches it.
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

ROOT = Path(__file__).resolve().parent.parent


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


def command_of(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = [w.decode(errors="replace") for w in raw if w]
    return " ".join(Path(words[0]).name if i == 0 else w for i, w in enumerate(words))[:90]


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(env: dict, port: int, timeout: float = 300) -> tuple[subprocess.Popen, float]:
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
            return process, time.monotonic() - started
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


def report_memory(var_dir: str, settle: float, when: str) -> None:
    time.sleep(settle)
    total_rss = total_pss = 0
    pids = sorted(instance_processes(var_dir))
    print(f"at rest {settle:.0f} s {when}:")
    for pid in pids:
        rss, pss = memory_kib(pid)
        total_rss, total_pss = total_rss + rss, total_pss + pss
        print(
            f"  {pid:>7}  RSS {rss / 1024:6.1f} MiB  PSS {pss / 1024:6.1f} MiB  {command_of(pid)}"
        )
    print(
        f"idle, {len(pids)} processes: RSS {total_rss / 1024:.0f} MiB, "
        f"PSS {total_pss / 1024:.0f} MiB (goal: RSS ≤ 250 MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=9710)
    parser.add_argument("--settle", type=float, default=30)
    parser.add_argument("--restarts", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="berth-idle-"))
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
        process, first = start(env, args.port)
        print(f"first start (migrate, static files) to /health 200: {first:.1f} s")
        report_memory(var_dir, args.settle, "after the first start")
        for n in range(args.restarts):
            stop(process, var_dir)
            process = None
            process, took = start(env, args.port)
            print(f"restart {n + 1} to /health 200: {took:.1f} s (goal ≤ 5 s)")
        if args.restarts:
            report_memory(var_dir, args.settle, "after the last restart")
    finally:
        if process is not None:
            stop(process, var_dir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
