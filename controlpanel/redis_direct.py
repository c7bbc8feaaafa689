"""Redis commands sent on a connection of their own, past redis-py's client path.

redis-py's client (argument packing, its retry wrapper, the pool's check-out with a readiness
poll of the socket, response callbacks) costs more CPU than the round trip it makes (~100 µs
a command on this machine), and the panel makes one to three on every API request: the rate
limit, the access generation, ``/health``'s PING. ``DirectRedis`` keeps one connection per
URL and thread, sends the packed command and reads the reply as redis-py's connection parses
it. A connection Redis closed (a restart) is opened again and the command sent once more, as
redis-py's client retries; an error reply is raised as redis-py raises it.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS


class DirectRedis:
    def __init__(self, url: str):
        import redis

        self.pool = redis.ConnectionPool.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, retry_on_timeout=False
        )
        self.local = threading.local()

    @property
    def connection(self):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = self.pool.make_connection()
        return connection

    def command(self, *args, packed: list[bytes] | None = None):
        """The reply to ``args`` (or to the already ``packed`` command)."""
        from redis.exceptions import ConnectionError as Dropped
        from redis.exceptions import ResponseError

        connection = self.connection
        packed = packed or connection.pack_command(*args)
        for again in (True, False):
            try:
                connection.send_packed_command(packed, check_health=False)
                return connection.read_response()
            except Dropped:
                connection.disconnect()
                if not again:
                    raise
            except ResponseError:
                raise  # an error reply: read whole, the connection stays usable
            except BaseException:
                connection.disconnect()
                raise
        raise AssertionError("unreachable")


_clients: dict[str, DirectRedis] = {}
_lock = threading.Lock()


def direct(url: str) -> DirectRedis:
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url) or _clients.setdefault(url, DirectRedis(url))
    return client


def cache_redis() -> DirectRedis | None:
    """The default cache's Redis (rate limits, the access generation), or None when the cache
    is not Redis (the embedded default)."""
    cache = settings.CACHES[DEFAULT_CACHE_ALIAS]
    if cache.get("BACKEND") != "controlpanel.cache.RedisCache":
        return None
    location = cache["LOCATION"]
    return direct(location if isinstance(location, str) else location[0])
