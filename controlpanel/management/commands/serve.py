"""Serve Berth in one command: uvicorn (panel, API, WebSockets, sites) + a Celery worker with beat.

It prepares what needs preparing (``--prepare``: migrations and the operator account; static
files when their sources changed), writes supervisord's configuration, and then *becomes*
supervisord (exec), which runs the web server and the worker as its programs: a crashed one is
restarted (with supervisord's growing delay when it keeps dying while starting) and every exit
and restart is logged on this terminal. Ctrl+C or SIGTERM stops everything (each program gets
SIGTERM, then SIGKILL after 4 s). Nothing of Django stays loaded in the supervising process: the
web server sends the host's heartbeats (``SERVER_HEARTBEATS``), and each program gets SIGTERM if
supervisord itself dies (``setpriv --pdeathsig``).

The worker is one process: tasks run in a thread pool and beat in a thread of it (``--pool
threads --beat-thread``); builds are separate sandboxed processes anyway (docs/performance.md,
"Idle memory and restart").

``--server daphne`` (or ``BERTH_ASGI_SERVER=daphne``) runs the same ASGI app under daphne.
uvicorn is the default: it spends ~25 µs of its own on a request against daphne's ~200 µs, and
does not load Twisted (docs/performance.md).

Used by ``scripts/run.sh`` for the embedded default (through controlpanel/startup.py, which
skips this command's Django start-up when nothing needs preparing). In production the same
pieces run as separate services (see docker-compose.yml).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sys
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from controlpanel import readiness
from controlpanel.staticfiles import collect_if_changed
from controlpanel.supervision import SUPERVISORD_MAIN, Program, Supervisor

WEB = "web"
WORKER = "worker"
CONCURRENCY = 4  # worker threads: they cost nothing at rest
# supervisord retries a program that dies while starting after 1, 2, 3 ... seconds; this many
# times (about half an hour, the last waits a minute long) before it gives up (FATAL).
START_RETRIES = 60


class Command(BaseCommand):
    help = "Start the web server with a Celery worker and beat, supervised; stop them together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Web server only.")
        parser.add_argument(
            "--concurrency", type=int, default=CONCURRENCY, help="The worker's task threads."
        )
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="First migrate the database and make sure an operator account exists, in this "
            "process; then note that it is prepared, so that the next start (scripts/run.sh) "
            "skips this command when nothing changed (controlpanel/startup.py).",
        )
        parser.add_argument(
            "--server",
            choices=["daphne", "uvicorn"],
            default=os.environ.get("BERTH_ASGI_SERVER", "uvicorn"),
            help="uvicorn (default: about 4x daphne's requests per second for hosted sites, "
            "docs/performance.md) or daphne.",
        )

    def handle(self, host, port, no_worker, concurrency, server, prepare=False, **options):
        if prepare:
            interrupted = threading.Event()

            def interrupt(signum=None, frame=None):
                # Noted as well as raised: Python swallows (and prints) an exception raised
                # while a finalizer runs, so the note is what makes a Ctrl+C always end the
                # command, and the hook below keeps that case quiet.
                interrupted.set()
                raise KeyboardInterrupt

            def unraisable(info, default=sys.unraisablehook):
                if not issubclass(info.exc_type, KeyboardInterrupt):
                    default(info)

            previous, previous_hook = signal.signal(signal.SIGINT, interrupt), sys.unraisablehook
            sys.unraisablehook = unraisable
            try:
                call_command("migrate", interactive=False, verbosity=0)
                call_command("ensure_operator")
            except KeyboardInterrupt:  # nothing is started yet: Ctrl+C simply ends the command
                raise SystemExit(130) from None
            finally:
                signal.signal(signal.SIGINT, previous)
                sys.unraisablehook = previous_hook
            if interrupted.is_set():
                raise SystemExit(130)
        # A Ctrl+C or SIGTERM before supervisord takes over ends the command quietly.
        stopping = threading.Event()
        signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
        signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())

        self.check_migrations()  # says so, as runserver does, when `migrate` has not been run
        if collect_if_changed():  # only when the static sources changed (or on a fresh var/)
            self.stdout.write("Collected static files.")
        if prepare:
            readiness.record()  # the next start skips this command when nothing changed
        connections.close_all()
        self.launch(host, port, server, no_worker=no_worker, concurrency=concurrency, stop=stopping)

    def launch(
        self,
        host: str,
        port: int,
        server: str,
        *,
        no_worker: bool,
        concurrency: int,
        stop: threading.Event | None = None,
    ) -> None:
        """Write supervisord's configuration, say where Berth answers, and exec supervisord."""
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
        # Without PANEL_URL, site links (Visit buttons, API urls, build logs) follow the host
        # and port given here, as the banner does, not the default :8000.
        environment = {} if os.environ.get("PANEL_URL") else {"PANEL_URL": f"http://{shown}:{port}"}
        programs = [self.web_program(host, port, server, environment)]
        if not no_worker:
            # The worker loads Django once the web server answers (or after 30 s): the panel
            # answers sooner on a busy machine, and tasks simply wait a few seconds.
            health = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/health"  # noqa: S104
            programs.append(self.worker_program(concurrency, environment, start_after=health))
        supervisor = Supervisor(settings.SUPERVISOR_DIR)
        supervisor.write_config(programs, replace=[WEB, WORKER])
        if supervisor.ping():
            raise CommandError(f"A supervisord is already running for {supervisor.root}.")
        supervisor.socket_path.unlink(missing_ok=True)
        if stop is not None and stop.is_set():
            return  # Ctrl+C or SIGTERM while preparing: nothing was started
        self.stdout.write(
            self.style.SUCCESS(f"\nBerth is starting at http://{shown}:{port}/")
            + f"\n  Sign up or sign in: http://{shown}:{port}/accounts/login/"
            + f"\n  Operators: http://{shown}:{port}/admin/"
            + f"\n  Sites: http://<site>.{settings.SITES_DOMAIN}:{port}/"
            + f"\n  API docs: http://{shown}:{port}/api/docs/"
            + f"\n  Server: {server}"
            + ("" if no_worker else "\n  Worker and beat: starting beside it")
            + f"\n  Supervised by supervisord (log: {supervisor.log_path})"
            + "\nPress Ctrl+C to stop.\n"
        )
        self.stdout.flush()
        sys.stderr.flush()
        if stop is not None and stop.is_set():
            return
        argv = [sys.executable, "-c", SUPERVISORD_MAIN, "-n", "-c"]
        os.execv(sys.executable, [*argv, str(supervisor.config_path)])  # noqa: S606

    def web_program(self, host: str, port: int, server: str, environment: dict) -> Program:
        # Neither server rewrites the client address from X-Forwarded-For: the app reads it,
        # trusting only NUM_PROXIES hops (controlpanel/http.py). daphne would take the first,
        # client-written entry; uvicorn trusts any loopback caller's header.
        if server == "uvicorn":
            web = ["uvicorn", "--host", host, "--port", str(port), "--no-proxy-headers"]
            web += ["--ws", "websockets-sansio"]
            # The C HTTP parser and event loop (pinned in requirements.txt); uvicorn's "auto"
            # would fall back to its pure-Python ones silently. Hosted sites' requests write
            # no access line (hosting.serving.app); the panel's still do.
            for option, module in (("--http", "httptools"), ("--loop", "uvloop")):
                if importlib.util.find_spec(module) is not None:
                    web += [option, module]
            web.append("controlpanel.asgi:application")
        else:
            web = ["daphne", "-b", host, "-p", str(port), "controlpanel.asgi:application"]
        return Program(
            name=WEB,
            command=[*dies_with_supervisord(), sys.executable, "-m", *web],
            directory=settings.BASE_DIR,
            # The web server sends this host's heartbeats (one sender per host and role).
            environment={**environment, "SERVER_HEARTBEATS": "1"},
            start_retries=START_RETRIES,
            log_to_stdout=True,
        )

    def worker_program(
        self, concurrency: int, environment: dict, *, start_after: str = ""
    ) -> Program:
        schedule = settings.VAR_DIR / "celery" / "beat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        return Program(
            name=WORKER,
            command=[
                *dies_with_supervisord(),
                sys.executable,
                "-m",
                "celery",
                "-A",
                "controlpanel",
                "worker",
                *(["--start-after", start_after] if start_after else []),
                "--pool=threads",
                f"--concurrency={concurrency}",
                "--beat-thread",
                "--loglevel=INFO",
                "-s",
                str(schedule),
            ],
            directory=settings.BASE_DIR,
            environment=environment,
            start_seconds=5,
            start_retries=START_RETRIES,
            # Its loop notices the stop within 2 s, then stops beat, the pool and its
            # connections: a loaded machine needs more than the default 4 s.
            stop_wait_seconds=10,
            stop_as_group=False,
            log_to_stdout=True,
        )


def dies_with_supervisord() -> list[str]:
    """A prefix that makes a program get SIGTERM when supervisord dies (even by SIGKILL), so
    nothing keeps the port or takes tasks after the command ended; empty without setpriv."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []
