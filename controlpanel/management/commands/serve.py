"""Serve Berth in one command: daphne (panel, API, WebSockets, sites) + Celery worker and beat.

``--server uvicorn`` (or ``BERTH_ASGI_SERVER=uvicorn``) runs the same ASGI app under uvicorn.

Used by ``scripts/run.sh`` for the embedded default. In production the same pieces run as
separate services (see docker-compose.yml).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server with a Celery worker and beat, and stop them together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Web server only.")
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument(
            "--server",
            choices=["daphne", "uvicorn"],
            default=os.environ.get("BERTH_ASGI_SERVER", "daphne"),
            help="daphne (default) or uvicorn: about 4x the requests per second for hosted "
            "sites (docs/performance.md).",
        )

    def handle(self, host, port, no_worker, concurrency, server, **options):
        self.check_migrations()  # says so, as runserver does, when `migrate` has not been run
        manifest = getattr(staticfiles_storage, "manifest_name", None)
        if manifest and not staticfiles_storage.exists(manifest):
            self.stdout.write("Collecting static files (first start) ...")
            call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        procs: list[subprocess.Popen] = []
        if not no_worker:
            schedule = settings.VAR_DIR / "celery" / "beat-schedule"
            schedule.parent.mkdir(parents=True, exist_ok=True)
            procs.append(
                subprocess.Popen(
                    [
                        python,
                        "-m",
                        "celery",
                        "-A",
                        "controlpanel",
                        "worker",
                        "--beat",
                        "--loglevel=INFO",
                        f"--concurrency={concurrency}",
                        "-s",
                        str(schedule),
                    ],
                    start_new_session=True,
                )
            )
        # Neither server rewrites the client address from X-Forwarded-For: the app reads it,
        # trusting only NUM_PROXIES hops (controlpanel/http.py). daphne would take the first,
        # client-written entry; uvicorn trusts any loopback caller's header.
        if server == "uvicorn":
            web = ["uvicorn", "--host", host, "--port", str(port), "--no-proxy-headers"]
            web += ["--ws", "websockets", "controlpanel.asgi:application"]
        else:
            web = ["daphne", "-b", host, "-p", str(port), "controlpanel.asgi:application"]
        procs.append(subprocess.Popen([python, "-m", *web], start_new_session=True))
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
        self.stdout.write(
            self.style.SUCCESS(f"\nBerth is running at http://{shown}:{port}/")
            + f"\n  Sign up or sign in: http://{shown}:{port}/accounts/login/"
            + f"\n  Operators: http://{shown}:{port}/admin/"
            + f"\n  Sites: http://<site>.{settings.SITES_DOMAIN}:{port}/"
            + f"\n  API docs: http://{shown}:{port}/api/docs/"
            + f"\n  Server: {server}"
            + ("" if no_worker else "\n  Worker and beat: started")
            + "\nPress Ctrl+C to stop.\n"
        )
        self.stdout.flush()

        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        code = 0
        while not stopping:
            for proc in procs:
                if proc.poll() is not None:
                    self.stderr.write(f"{proc.args[2:4]} exited with {proc.returncode}; stopping.")
                    code = proc.returncode or 1
                    stopping = True
            time.sleep(0.3)
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        sys.exit(code)
