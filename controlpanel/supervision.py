"""Supervised processes: a supervisord that Berth configures, starts and drives over XML-RPC.

Every long-running process Berth starts (the web server and Celery worker of ``manage.py
serve``, later php-fpm pools and site servers) is a supervisord *program*: supervisord restarts
it when it crashes (at once after a healthy run, with a growing delay when it dies while
starting) and logs every exit and spawn. This module renders the configuration under
``SUPERVISOR_DIR`` (``var/supervisor``), starts and stops the daemon, and talks to it over a
unix socket only its owner may open, with a random password kept beside the configuration.

Read by ``manage.py serve`` (which owns the daemon) and by the monitoring pages and API, which
list and restart programs from another process through the same socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path

from django.conf import settings
from supervisor.xmlrpc import SupervisorTransport

PROGRAM_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
USERNAME = "berth"
# Linux keeps unix socket paths under 108 bytes; longer folders get a socket in /tmp instead.
MAX_SOCKET_PATH = 100


# `python -c` code that runs supervisord, starting its programs at once: supervisord itself first
# waits for a second on its sockets. Not a module of Berth's, which would load the Celery app
# (controlpanel/__init__.py) into supervisord.
SUPERVISORD_MAIN = """\
from supervisor import supervisord
run = supervisord.Supervisor.runforever
def start_then_run(self):
    for group in sorted(self.process_groups.values()):
        group.transition()
    return run(self)
supervisord.Supervisor.runforever = start_then_run
supervisord.main()
"""


class SupervisorError(Exception):
    """supervisord is not running, refused a call, or a program did not reach the asked state."""


class SupervisorUnavailable(SupervisorError):
    """No supervisord answers on this folder's socket."""


@dataclass(frozen=True)
class Program:
    """One supervised program: what to run and how supervisord treats its exits."""

    name: str
    command: Sequence[str]
    directory: Path | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    # A process that dies within start_seconds counts as failing to start: supervisord retries it
    # after 1, 2, 3 ... seconds, start_retries times, then marks it FATAL.
    start_seconds: int = 3
    start_retries: int = 10
    stop_signal: str = "TERM"
    # Then SIGKILL to the whole process group: serve must stop everything within 5 seconds.
    stop_wait_seconds: int = 4
    # Send the stop signal to the whole process group; False for programs that stop their own
    # children (a Celery worker reports children killed under it as errors).
    stop_as_group: bool = True
    # True: output goes to supervisord's own stdout (the terminal of `manage.py serve`).
    log_to_stdout: bool = False

    def __post_init__(self):
        if not PROGRAM_NAME.match(self.name):
            raise ValueError(f"Invalid program name {self.name!r}: use a-z, 0-9, - and _.")
        if not self.command:
            raise ValueError("A program needs a command.")
        for key in self.environment:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise ValueError(f"Invalid environment variable name {key!r}.")

    def render(self, log_dir: Path) -> str:
        """The ``[program:NAME]`` section (supervisord expands ``%(...)s``, so ``%`` is doubled)."""
        command = " ".join(shlex.quote(str(part)) for part in self.command)
        lines = [
            f"[program:{self.name}]",
            f"command={_escape(command)}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={self.start_seconds}",
            f"startretries={self.start_retries}",
            f"stopsignal={self.stop_signal}",
            f"stopwaitsecs={self.stop_wait_seconds}",
            f"stopasgroup={str(self.stop_as_group).lower()}",
            "killasgroup=true",
            "redirect_stderr=true",
        ]
        if self.directory:
            lines.append(f"directory={_escape(str(self.directory))}")
        if self.log_to_stdout:
            lines += ["stdout_logfile=/dev/stdout", "stdout_logfile_maxbytes=0"]
        else:
            log = log_dir / f"{self.name}.log"
            lines += [
                f"stdout_logfile={_escape(str(log))}",
                "stdout_logfile_maxbytes=5MB",
                "stdout_logfile_backups=2",
            ]
        if self.environment:
            # Not on the command line, where `ps` would show them to every user.
            pairs = (f"{key}={_quote(value)}" for key, value in self.environment.items())
            lines.append(f"environment={','.join(pairs)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ProcessInfo:
    """A program as supervisord reports it."""

    name: str
    state: str  # running, starting, backoff, stopping, stopped, exited, fatal, unknown
    pid: int | None
    started_at: datetime | None
    description: str
    exit_status: int

    @classmethod
    def from_rpc(cls, info: dict) -> ProcessInfo:
        pid = info.get("pid") or None
        start = info.get("start") or 0
        return cls(
            name=info["name"],
            state=str(info["statename"]).lower(),
            pid=pid,
            started_at=datetime.fromtimestamp(start, tz=UTC) if pid and start else None,
            description=info.get("description", ""),
            exit_status=int(info.get("exitstatus", 0)),
        )

    @property
    def running(self) -> bool:
        return self.state == "running"


def _escape(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError("Configuration values may not contain line breaks.")
    return value.replace("%", "%%")


def _quote(value: str) -> str:
    # supervisord reads `environment=` with a non-POSIX shlex (quotes group, nothing escapes)
    # and strips every quote at either end of a value.
    value = _escape(value)
    if value[:1] in ("'", '"') or value[-1:] in ("'", '"'):
        raise ValueError("An environment value may not start or end with a quote.")
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    raise ValueError("An environment value may hold single or double quotes, not both.")


class _TimeoutUnixConnection(HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class _Transport(SupervisorTransport):
    def __init__(self, username: str, password: str, socket_path: str, timeout: float):
        super().__init__(username, password, f"unix://{socket_path}")
        self._get_connection = lambda: _TimeoutUnixConnection(socket_path, timeout)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # supervisord stops its programs when the process that started it dies, even by SIGKILL.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Supervisor:
    """The supervisord whose configuration, socket and logs live in ``root``."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.config_path = self.root / "supervisord.conf"
        self.programs_dir = self.root / "programs"
        self.log_dir = self.root / "logs"
        self.log_path = self.root / "supervisord.log"
        self.pid_path = self.root / "supervisord.pid"
        self.credentials_path = self.root / "credentials"
        self.daemon: subprocess.Popen | None = None

    @property
    def socket_path(self) -> Path:
        path = self.root.resolve() / "supervisor.sock"
        if len(str(path)) <= MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"berth-supervisor-{digest}" / "supervisor.sock"

    # -- configuration -------------------------------------------------------------------------

    def _password(self) -> str:
        if not self.credentials_path.exists():
            self.credentials_path.write_text(secrets.token_urlsafe(32))
            self.credentials_path.chmod(0o600)
        return self.credentials_path.read_text().strip()

    def write_config(
        self, programs: Sequence[Program] = (), *, replace: Sequence[str] = ()
    ) -> None:
        """Write supervisord.conf and one file per program; ``replace`` names programs whose
        files are removed first (a program the caller no longer runs)."""
        for folder in (self.root, self.programs_dir, self.log_dir, self.socket_path.parent):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
        for name in replace:
            (self.programs_dir / f"{name}.conf").unlink(missing_ok=True)
        for program in programs:
            self._write_program(program)
        main = [
            "[unix_http_server]",
            f"file={_escape(str(self.socket_path))}",
            "chmod=0700",
            f"username={USERNAME}",
            f"password={_escape(self._password())}",
            "",
            "[supervisord]",
            f"logfile={_escape(str(self.log_path))}",
            "logfile_maxbytes=5MB",
            "logfile_backups=2",
            "loglevel=info",
            f"pidfile={_escape(str(self.pid_path))}",
            f"childlogdir={_escape(str(self.log_dir))}",
            "nodaemon=true",
        ]
        if os.geteuid() == 0:
            main.append("user=root")  # says so, instead of a CRIT line about running as root
        main += [
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[include]",
            f"files={_escape(str(self.programs_dir))}/*.conf",
            "",
        ]
        self.config_path.write_text("\n".join(main))
        self.config_path.chmod(0o600)

    def _write_program(self, program: Program) -> None:
        path = self.programs_dir / f"{program.name}.conf"
        path.write_text(program.render(self.log_dir))
        path.chmod(0o600)

    # -- the daemon ----------------------------------------------------------------------------

    def start(self, *, timeout: float = 20) -> subprocess.Popen:
        """Start supervisord in the foreground (a child of the caller, in its own session) and
        wait until it answers. Its log lines go to the caller's stdout and to supervisord.log."""
        if self.ping():
            raise SupervisorError(f"A supervisord is already running for {self.root}.")
        self.socket_path.unlink(missing_ok=True)
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(self.config_path)],
            start_new_session=True,  # Ctrl+C reaches the owner only; it stops the programs
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise SupervisorError(
                    f"supervisord exited with {self.daemon.returncode} (see {self.log_path})."
                )
            if self.ping():
                return self.daemon
            time.sleep(0.1)
        raise SupervisorError(f"supervisord did not answer within {timeout:.0f} s.")

    def rpc(self, *, timeout: float = 10) -> xmlrpc.client.ServerProxy:
        if not self.credentials_path.exists():
            raise SupervisorUnavailable(f"No supervisord has been configured in {self.root}.")
        transport = _Transport(USERNAME, self._password(), str(self.socket_path), timeout)
        return xmlrpc.client.ServerProxy("http://localhost", transport=transport)

    def _call(self, method: str, *args, timeout: float = 10):
        try:
            return getattr(self.rpc(timeout=timeout).supervisor, method)(*args)
        except xmlrpc.client.Fault as exc:
            raise SupervisorError(f"supervisord refused {method}: {exc.faultString}") from exc
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            raise SupervisorUnavailable(f"supervisord does not answer: {exc}") from exc

    def ping(self) -> bool:
        try:
            return self._call("getState", timeout=2)["statename"] == "RUNNING"
        except SupervisorError:
            return False

    def shutdown(self, *, timeout: float = 8) -> None:
        """Stop every program at once (each gets its stop signal, then SIGKILL after its
        stop_wait_seconds), then supervisord itself."""
        try:
            self._call("stopAllProcesses", False)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                states = {info.state for info in self.processes()}
                if not states & {"running", "starting", "backoff", "stopping"}:
                    break
                time.sleep(0.1)
            self._call("shutdown")
        except SupervisorUnavailable:
            pass
        if self.daemon is not None:
            try:
                self.daemon.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()

    # -- programs ------------------------------------------------------------------------------

    def processes(self) -> list[ProcessInfo]:
        return [ProcessInfo.from_rpc(info) for info in self._call("getAllProcessInfo")]

    def process(self, name: str) -> ProcessInfo:
        return ProcessInfo.from_rpc(self._call("getProcessInfo", name))

    def start_program(self, name: str, *, wait: bool = True) -> ProcessInfo:
        """Start ``name``; with ``wait``, return once it has stayed up for its start_seconds."""
        self._call("startProcess", name, wait, timeout=60)
        return self.process(name)

    def stop_program(self, name: str) -> ProcessInfo:
        try:
            self._call("stopProcess", name, True, timeout=60)
        except SupervisorError as exc:
            if "NOT_RUNNING" not in str(exc):
                raise
        return self.process(name)

    def restart_program(self, name: str) -> ProcessInfo:
        """Stop and start ``name``; returns its new state (running, with a new pid)."""
        self.stop_program(name)
        return self.start_program(name)

    def add_program(self, program: Program) -> ProcessInfo:
        """Add (or replace) a program on the running supervisord and start it."""
        self._write_program(program)
        self._call("reloadConfig")
        if any(info.name == program.name for info in self.processes()):
            self.stop_program(program.name)
            self._call("removeProcessGroup", program.name)
        self._call("addProcessGroup", program.name)
        return self.process(program.name)

    def remove_program(self, name: str) -> None:
        """Stop a program and forget it, here and in the configuration."""
        if any(info.name == name for info in self.processes()):
            self.stop_program(name)
            self._call("removeProcessGroup", name)
        (self.programs_dir / f"{name}.conf").unlink(missing_ok=True)
        self._call("reloadConfig")


def default_supervisor() -> Supervisor:
    """The supervisord of this installation (``SUPERVISOR_DIR``)."""
    return Supervisor(settings.SUPERVISOR_DIR)
