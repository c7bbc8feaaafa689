"""What backups, restores and restore drills share as jobs: the claim, the heartbeat a running
job writes from a thread, and the reaper that fails a job whose worker died (killed, crashed,
lost host) instead of leaving it "running" for ever.

A job is claimed when queued, or when running with a heartbeat older than
``BACKUP_HEARTBEAT_TIMEOUT`` (its worker died and the task was delivered again); a live job
is never claimed twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from backups.models import State

log = logging.getLogger(__name__)

REAPED = (
    "The worker running it stopped responding (it was killed or crashed) and it was "
    "abandoned; {what}"
)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_interval() -> float:
    return max(0.2, settings.BACKUP_HEARTBEAT_TIMEOUT / 6)


def stale_q(*, stale_after: float | None = None) -> Q:
    """Running jobs whose heartbeat is older than the timeout (or that never beat)."""
    cutoff = timezone.now() - timedelta(
        seconds=settings.BACKUP_HEARTBEAT_TIMEOUT if stale_after is None else stale_after
    )
    return Q(state=State.RUNNING) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at=None, started_at__lt=cutoff)
    )


def claim(model, pk) -> bool:
    """Take the job ``pk`` to run it here: queued, or running with a dead worker."""
    now = timezone.now()
    return bool(
        model.objects.filter(Q(pk=pk) & (Q(state=State.QUEUED) | stale_q())).update(
            state=State.RUNNING,
            started_at=now,
            heartbeat_at=now,
            worker=worker_name(),
            reason="",
        )
    )


@contextmanager
def heartbeats(model, pk):
    """Beat ``heartbeat_at`` from a thread while the job runs (restic and mysqldump can be
    busy for longer than the reaper's patience without a word)."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(heartbeat_interval()):
                try:
                    model.objects.filter(pk=pk, state=State.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # a database hiccup: beat again on a fresh connection
                    log.warning("Heartbeat of %s %s failed", model.__name__, pk, exc_info=True)
                    connection.close()
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def reap(model, *, what: str, stale_after: float | None = None, on_reaped=None) -> list:
    """Fail the running jobs of ``model`` whose worker died, with a reason that says so and
    ``what`` it means for the user; ``on_reaped(pk)`` runs after each. Their ids."""
    reason = REAPED.format(what=what)
    reaped = []
    for pk in list(
        model.objects.filter(stale_q(stale_after=stale_after)).values_list("pk", flat=True)
    ):
        done = model.objects.filter(Q(pk=pk) & stale_q(stale_after=stale_after)).update(
            state=State.FAILED, reason=reason, finished_at=timezone.now()
        )
        if not done:
            continue  # it beat (or finished) meanwhile
        log.warning("Reaped %s %s: its worker died", model.__name__, pk)
        if on_reaped is not None:
            on_reaped(pk)
        reaped.append(pk)
    return reaped
