"""Each Celery worker sends heartbeats for its host while it runs (role ``worker``, or
``edge`` for the edge's worker)."""

from __future__ import annotations

from celery.signals import worker_ready, worker_shutdown

from monitoring.heartbeats import HeartbeatThread

_threads: list[HeartbeatThread] = []


@worker_ready.connect
def _start_heartbeats(sender=None, **kwargs):
    queues = {q.name for q in getattr(sender.app.amqp, "queues", {}).values()} if sender else set()
    role = "edge" if queues == {"edge"} else "worker"
    thread = HeartbeatThread(role)
    thread.start()
    _threads.append(thread)


@worker_shutdown.connect
def _stop_heartbeats(**kwargs):
    while _threads:
        _threads.pop().stop()
