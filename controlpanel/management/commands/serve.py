"""Serve Berth in one command: uvicorn (panel, API, WebSockets, sites) + Celery worker and beat.

Both run as supervisord programs (controlpanel/supervision.py): a crashed worker or web server
is restarted, with a growing delay when it keeps dying, and every exit and restart is logged.
Only Ctrl+C or SIGTERM stops everything (each program gets SIGTERM, then SIGKILL after 4 s).

``--server daphne`` (or ``BERTH_ASGI_SERVER=daphne``) runs the same ASGI app under daphne.
uvicorn is the default: it spends ~25 µs of its own on a request against daphne's ~200 µs, and
does not load Twisted (docs/performance.md).

Used by ``scripts/run.sh`` for the embedded default. In production the same pieces run as
separate services (see docker-compose.yml).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from controlpanel.staticfiles import collect_if_changed
from controlpanel.supervision import Program, Supervisor, SupervisorError, kill_process_group
from monitoring.heartbeats import HeartbeatThread

WEB = "web"
WORKER = "worker"
POLL_SECONDS = 0.5
MIN_RETRY = 5  # seconds before a program that gave up is started again; doubles up to
MAX_RETRY = 120


class Command(BaseCommand):
    help = "Start the web server with a Celery worker and beat, supervised; stop them together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Web server only.")
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument(
            "--prepare",
            action="store_true",
            help="First migrate the database and make sure an operator account exists, in this "
            "process (scripts/run.sh: two fewer Django start-ups on every start).",
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
        # Handlers first: a Ctrl+C or SIGTERM from here on stops everything started below.
        stopping = threading.Event()

        def stop(signum=None, frame=None):
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

        self.check_migrations()  # says so, as runserver does, when `migrate` has not been run
        if collect_if_changed():  # only when the static sources changed (or on a fresh var/)
            self.stdout.write("Collected static files.")
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host  # noqa: S104
        # Without PANEL_URL, site links (Visit buttons, API urls, build logs) follow the host
        # and port given here, as the banner does, not the default :8000.
        environment = {} if os.environ.get("PANEL_URL") else {"PANEL_URL": f"http://{shown}:{port}"}
        programs = [self.web_program(host, port, server, environment)]
        if not no_worker:
            programs.append(self.worker_program(concurrency, environment))
        supervisor = Supervisor(settings.SUPERVISOR_DIR)
        supervisor.write_config(programs, replace=[WEB, WORKER])
        if stopping.is_set():
            return
        try:
            supervisor.start()
        except SupervisorError as exc:
            raise CommandError(str(exc)) from exc
        if stopping.is_set():  # stopped while supervisord started: no banner, stop it at once
            supervisor.shutdown()
            return
        self.stdout.write(
            self.style.SUCCESS(f"\nBerth is running at http://{shown}:{port}/")
            + f"\n  Sign up or sign in: http://{shown}:{port}/accounts/login/"
            + f"\n  Operators: http://{shown}:{port}/admin/"
            + f"\n  Sites: http://<site>.{settings.SITES_DOMAIN}:{port}/"
            + f"\n  API docs: http://{shown}:{port}/api/docs/"
            + f"\n  Server: {server}"
            + ("" if no_worker else "\n  Worker and beat: started")
            + f"\n  Supervised by supervisord (log: {supervisor.log_path})"
            + "\nPress Ctrl+C to stop.\n"
        )
        self.stdout.flush()
        # This host's samples for the operators' pages (shared with its web server when that
        # one sends them too, SERVER_HEARTBEATS: one sender per host).
        heartbeat = HeartbeatThread("web", shared=True)
        heartbeat.start()
        try:
            self.supervise(supervisor, stopping)
        finally:
            heartbeat.stop()
            supervisor.shutdown()

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
            command=[sys.executable, "-m", *web],
            directory=settings.BASE_DIR,
            environment=environment,
            log_to_stdout=True,
        )

    def worker_program(self, concurrency: int, environment: dict) -> Program:
        schedule = settings.VAR_DIR / "celery" / "beat-schedule"
        schedule.parent.mkdir(parents=True, exist_ok=True)
        return Program(
            name=WORKER,
            command=[
                sys.executable,
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
            directory=settings.BASE_DIR,
            environment=environment,
            start_seconds=5,
            stop_as_group=False,
            log_to_stdout=True,
        )

    def supervise(self, supervisor: Supervisor, stopping: threading.Event) -> None:
        """Until Ctrl+C or SIGTERM: supervisord restarts crashed programs itself (its exits and
        spawns are logged on this terminal); a program that gave up (FATAL after failing to
        start again and again) is started again here, waiting longer each time; a supervisord
        that died is started again too."""
        retry_at: dict[str, float] = {}
        delays: dict[str, float] = {}
        last_pid: dict[str, int] = {}
        while not stopping.wait(POLL_SECONDS):
            if supervisor.daemon is not None and supervisor.daemon.poll() is not None:
                self.stderr.write(
                    f"supervisord exited with {supervisor.daemon.returncode}; starting it again."
                )
                for pid in last_pid.values():  # its programs outlived it: start from scratch
                    kill_process_group(pid)
                last_pid.clear()
                stopping.wait(1)
                try:
                    supervisor.start()
                except SupervisorError as exc:
                    self.stderr.write(str(exc))
                continue
            try:
                processes = supervisor.processes()
            except SupervisorError:
                continue
            now = time.monotonic()
            for info in processes:
                previous = last_pid.get(info.name)
                if previous and previous != info.pid:
                    # A crashed process can leave children behind (a Celery worker's beat and
                    # pool): they would run twice beside the restarted one.
                    left = kill_process_group(previous)
                    if left:
                        self.stderr.write(
                            f"{info.name}: stopped {left} process(es) that pid {previous} "
                            "left behind."
                        )
                if info.pid:
                    last_pid[info.name] = info.pid
                else:
                    last_pid.pop(info.name, None)
                if info.state == "running":
                    if info.started_at and time.time() - info.started_at.timestamp() > 60:
                        delays.pop(info.name, None)  # healthy again: the next failure starts over
                    continue
                if info.state != "fatal" or info.name in retry_at:
                    continue
                delay = min(delays.get(info.name, MIN_RETRY / 2) * 2, MAX_RETRY)
                delays[info.name] = delay
                retry_at[info.name] = now + delay
                self.stderr.write(
                    f"{info.name} keeps failing to start ({info.description}); "
                    f"starting it again in {delay:.0f} s."
                )
            for name, when in list(retry_at.items()):
                if now >= when:
                    del retry_at[name]
                    self.stdout.write(f"Starting {name} again.")
                    try:
                        supervisor.start_program(name, wait=False)
                    except SupervisorError as exc:  # reported; the next FATAL schedules a retry
                        self.stderr.write(f"Could not start {name}: {exc}")
