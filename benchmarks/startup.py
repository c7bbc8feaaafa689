"""What one Django process of Berth costs to start: CPU time, wall time, RSS and modules.

Run: python benchmarks/startup.py [--runs 5] [--top 15]

Each figure comes from a fresh ``python`` process (the interpreter's own start included) that
stops after one of four stages:

- ``setup``: ``django.setup()`` (what every process does: a ``manage.py`` command, the web
  server, the Celery worker);
- ``+ urls``: the same, then the URLconf (what the web server loads at its first request);
- ``+ celery``: the same, then the Celery app with every app's tasks (what a worker loads);
- ``asgi``: ``django.setup()`` and the ASGI application, before any request (what a
  WebSocket-only server such as the full stack's daphne holds).

It prints the median over ``--runs`` of each stage's CPU time (user + system, the figure that
a loaded machine disturbs least), wall time and RSS (``VmRSS`` at the end), the number of
modules loaded, and the ``--top`` top-level packages by modules loaded with the Celery app.
The environment is the embedded default (SQLite under a throwaway ``BERTH_VAR_DIR``, no Redis)
unless ``DATABASE_URL`` / ``REDIS_URL`` are set. The machine's load average is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys
stage = sys.argv[1]
import django
django.setup()
if stage == "asgi":
    import controlpanel.asgi
if stage in ("urls", "celery"):
    from django.urls import get_resolver
    get_resolver().url_patterns
if stage == "celery":
    from controlpanel.celery import app
    app.loader.import_default_modules()
usage = resource.getrusage(resource.RUSAGE_SELF)
rss = next(
    int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:")
)
print(json.dumps({
    "cpu": usage.ru_utime + usage.ru_stime,
    "rss_kib": rss,
    "modules": sorted(sys.modules),
}))
"""

STAGES = [
    ("setup", "django.setup()"),
    ("urls", "+ urls"),
    ("celery", "+ celery app, tasks"),
    ("asgi", "setup + ASGI app"),
]


def run(stage: str, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, stage],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    var_dir = tempfile.mkdtemp(prefix="berth-startup-")
    env = dict(
        os.environ,
        BERTH_READ_DOTENV="0",
        BERTH_VAR_DIR=var_dir,
        DJANGO_SETTINGS_MODULE="controlpanel.settings",
        PYTHONPATH=str(ROOT),
    )
    print(f"database: {env.get('DATABASE_URL', 'SQLite (embedded)').split('@')[-1]}")
    print(f"{'stage':<22} {'CPU s':>7} {'wall s':>7} {'RSS MiB':>8} {'modules':>8}")
    last: dict = {}
    for stage, label in STAGES:
        results = [run(stage, env) for _ in range(args.runs)]
        if stage == "celery":
            last = results[-1]
        cpu = statistics.median(r["cpu"] for r in results)
        wall = statistics.median(r["wall"] for r in results)
        rss = statistics.median(r["rss_kib"] for r in results) / 1024
        modules = len(results[-1]["modules"])
        print(f"{label:<22} {cpu:7.2f} {wall:7.2f} {rss:8.1f} {modules:8d}")
    counts: dict[str, int] = {}
    for name in last["modules"]:
        top = name.split(".")[0]
        counts[top] = counts.get(top, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])[: args.top]
    print("modules by package with the Celery app:", ", ".join(f"{k} {v}" for k, v in ranked))


if __name__ == "__main__":
    main()
