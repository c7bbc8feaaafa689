"""Celery's Redis transport, made to survive a broker restart while tasks are in flight.

kombu's Redis channel reads the reply of its pending BRPOP first when it closes. After the
broker died, that read raises, the channel is left half closed, kombu drops the transport's
connection details, and the worker's second attempt to close the channel fails with
``AttributeError: 'NoneType' object has no attribute 'hostname'`` — an "unrecoverable" error
that stops the worker for good. Here a failed read of that last reply is what it is (the
broker is gone, and the reply with it) and the channel closes normally, so the consumer
reconnects with backoff as it does when no task is running.
"""

from __future__ import annotations

from kombu.transport import redis


class Channel(redis.Channel):
    def close(self):
        if self._in_poll and not self.closed:
            try:
                self._brpop_read()
            except (redis.Empty, *self.connection_errors):
                pass  # the reply went with the broker; _brpop_read cleared _in_poll
        super().close()


class Transport(redis.Transport):
    Channel = Channel
