"""Each WordPress site's php-fpm master as a program of the supervisord Berth controls
(controlpanel/supervision.py): started on provisioning, restarted by supervisord when it
crashes, stopped on "Stop" and removed on delete; monitoring lists it with the other programs.
"""

from __future__ import annotations

import socket
import time

from django.conf import settings

from controlpanel.supervision import Program, SupervisorError, default_supervisor
from wordpress.layout import SiteLayout
from wordpress.system import pool_command


class PoolError(Exception):
    """The pool could not be started or stopped; the message says why."""


def _program(layout: SiteLayout) -> Program:
    return Program(
        name=layout.program,
        command=pool_command(layout),
        directory=settings.BASE_DIR,
        start_seconds=1,
        start_retries=5,
        stop_signal="QUIT",  # php-fpm's graceful stop
    )


def _answers(layout: SiteLayout) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        try:
            sock.connect(str(layout.socket))
        except OSError:
            return False
    return True


def pool_start(layout: SiteLayout, *, timeout: float = 30) -> int:
    """Add (or replace) the site's program, which supervisord starts; returns its pid once the
    pool's socket accepts connections."""
    supervisor = default_supervisor()
    try:
        info = supervisor.add_program(_program(layout))
        deadline = time.monotonic() + timeout
        while not (info.running and _answers(layout)):
            if info.state == "fatal":
                raise PoolError(f"The site's PHP pool keeps exiting: {_log_tail(layout)}")
            if info.state in ("stopped", "exited"):
                supervisor.start_program(layout.program, wait=False)
            if time.monotonic() > deadline:
                raise PoolError(f"The site's PHP pool does not answer on {layout.socket}.")
            time.sleep(0.1)
            info = supervisor.process(layout.program)
    except SupervisorError as exc:
        raise PoolError(f"The site's PHP pool did not start: {exc}") from exc
    return info.pid or 0


def _log_tail(layout: SiteLayout) -> str:
    try:
        lines = (layout.root / "php-fpm.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no log"


def pool_resume(layout: SiteLayout) -> None:
    """Start a stopped pool again (its program stays configured)."""
    try:
        supervisor = default_supervisor()
        if not any(p.name == layout.program for p in supervisor.processes()):
            pool_start(layout)
            return
        if not supervisor.process(layout.program).running:
            supervisor.start_program(layout.program)
    except SupervisorError as exc:
        raise PoolError(f"The site's PHP pool did not start: {exc}") from exc


def pool_reload(layout: SiteLayout, *, timeout: float = 30) -> bool:
    """Restart a running pool so it reads its configuration again (a stopped pool reads it when
    started); returns whether it was running. Waits until the new pool answers."""
    try:
        supervisor = default_supervisor()
        if not any(p.name == layout.program for p in supervisor.processes()):
            return False
        if not supervisor.process(layout.program).running:
            return False
        supervisor.restart_program(layout.program)
    except SupervisorError as exc:
        raise PoolError(f"The site's PHP pool did not restart: {exc}") from exc
    deadline = time.monotonic() + timeout
    while not _answers(layout):
        if time.monotonic() > deadline:
            raise PoolError(f"The site's PHP pool does not answer on {layout.socket}.")
        time.sleep(0.1)
    return True


def pool_stop(layout: SiteLayout) -> None:
    try:
        supervisor = default_supervisor()
        if any(p.name == layout.program for p in supervisor.processes()):
            supervisor.stop_program(layout.program)
    except SupervisorError as exc:
        raise PoolError(f"The site's PHP pool did not stop: {exc}") from exc


def pool_remove(layout: SiteLayout) -> None:
    """Stop the program and forget it (idempotent; a missing supervisord has nothing to stop,
    but the program's file goes so a later supervisord does not start it)."""
    supervisor = default_supervisor()
    try:
        supervisor.remove_program(layout.program)
    except SupervisorError:
        (supervisor.programs_dir / f"{layout.program}.conf").unlink(missing_ok=True)


def pool_state(layout: SiteLayout) -> str:
    """running, stopped, fatal, ... or "missing" (no such program, or no supervisord)."""
    try:
        return default_supervisor().process(layout.program).state
    except SupervisorError:
        return "missing"


def supervisor_problem() -> str | None:
    """None when Berth's supervisord answers, else why WordPress pools cannot run."""
    if default_supervisor().ping():
        return None
    return (
        "Berth's process supervisor is not running here (it is started by `manage.py serve`); "
        "WordPress's PHP pools run under it."
    )
