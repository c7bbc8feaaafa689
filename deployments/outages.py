"""Riding out a database blip during a build.

A restart of the database cuts every connection; Django does not reconnect by itself in a
long-running worker, so each write a builder makes goes through ``retry`` (drop the broken
connection, try again with backoff) or ``Outage.attempt`` (one try now, the caller tries again
on its next tick). If the database stays away longer than ``BUILD_DATABASE_PATIENCE`` seconds,
``DatabaseAway`` says so, naming the database, and the build is stopped with that reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
MAX_DELAY = 1.0  # seconds between attempts at most
# The end of a build (its last lines, its final status) is worth waiting longer for.
FINAL_PATIENCE_FACTOR = 10

T = TypeVar("T")


class DatabaseAway(Exception):
    """The database could not be reached for longer than the build's patience."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        super().__init__(
            f"The database ({connection.display_name}) could not be reached for "
            f"{round(seconds)} seconds, so the build was stopped. Redeploy to try again."
        )


def reconnect() -> None:
    """Drop a connection a restart broke; the next query opens a new one."""
    try:
        connection.close()
    except DATABASE_ERRORS:
        connection.connection = None


def retry(work: Callable[[], T], *, patience: float | None = None, what: str = "") -> T:
    """``work()``, tried again with backoff while the database is unreachable.

    Only for work that is safe to repeat: a conditional UPDATE, or a whole transaction (a
    transaction cut by a restart was rolled back). Inside an outer transaction the error is
    raised for that transaction's own retry."""
    patience = settings.BUILD_DATABASE_PATIENCE if patience is None else patience
    started = time.monotonic()
    delay = 0.05
    while True:
        try:
            return work()
        except DATABASE_ERRORS as exc:
            if connection.in_atomic_block:
                raise
            reconnect()
            away = time.monotonic() - started
            if away + delay > patience:
                raise DatabaseAway(away) from exc
            log.warning("Database unreachable (%s); trying %s again", exc, what or "a write")
            time.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)


class Outage:
    """Non-blocking attempts for a loop that has other work (a build reading its output)."""

    def __init__(self, patience: float | None = None):
        self.patience = settings.BUILD_DATABASE_PATIENCE if patience is None else patience
        self.since: float | None = None

    def attempt(self, work: Callable[[], T]) -> tuple[bool, T | None]:
        """(True, result) if ``work()`` went through; (False, None) while the database is
        away; ``DatabaseAway`` once it has been away longer than the patience."""
        try:
            result = work()
        except DATABASE_ERRORS as exc:
            if connection.in_atomic_block:
                raise
            reconnect()
            now = time.monotonic()
            if self.since is None:
                self.since = now
                log.warning("Database unreachable (%s); the build goes on meanwhile", exc)
            if now - self.since > self.patience:
                raise DatabaseAway(now - self.since) from exc
            return False, None
        if self.since is not None:
            log.warning("Database back after %.1f s", time.monotonic() - self.since)
            self.since = None
        return True, result
