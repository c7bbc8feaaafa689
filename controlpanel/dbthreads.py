"""Database work of WebSocket handshakes and consumers, on a small pool of threads.

Channels' ``database_sync_to_async`` runs every call on the one thread that all of an ASGI
process's thread-sensitive code shares, one call at a time: with a few hundred log viewers
connecting together, each handshake's token look-up and access check waited behind every
other one, and daphne dropped the handshakes that were not accepted within five seconds.

``off_thread`` runs a function on a pool of its own instead (not thread-sensitive: each
call is independent and opens no transaction that another call continues). Each thread keeps
its own database connection, closed when it is too old as Django closes a request's
connection (``CONN_MAX_AGE``), so the pool holds at most ``THREADS`` more connections per
web process.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from channels.db import DatabaseSyncToAsync

THREADS = 4

_pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="db-pool")


def off_thread(func):
    """``func`` as a coroutine function whose body runs on the pool (a decorator)."""
    return DatabaseSyncToAsync(func, thread_sensitive=False, executor=_pool)
