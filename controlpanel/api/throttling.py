"""Rate limits (the Autostack API's): auth 5/min per IP, general 100/min per user, deployments
10/hour.

Counters live in the cache, so with Redis configured they hold across every web process.
"""

from __future__ import annotations

import hashlib
import secrets

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle as DrfSimpleRateThrottle

from controlpanel.http import client_ip
from controlpanel.redis_direct import cache_redis

# DRF's sliding log (the times of the requests of the last period), kept in a Redis sorted set
# and checked and counted in one round trip. DRF's own reads the whole log and writes it back
# (two round trips and a pickle of up to the limit's number of times on every request).
SLIDING_LOG = """
local now, period, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(period))
  return ''
end
return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
"""
SLIDING_LOG_SHA = hashlib.sha1(SLIDING_LOG.encode()).hexdigest()  # noqa: S324  (Redis's name)


def _sliding_log(key: str, args: list):
    """The script's answer, on the default cache's Redis (controlpanel.redis_direct: one
    round trip past redis-py's client path); None when the cache is not Redis."""
    from redis.exceptions import NoScriptError

    redis = cache_redis()
    if redis is None:
        return None
    try:
        return redis.command("EVALSHA", SLIDING_LOG_SHA, 1, key, *args)
    except NoScriptError:
        pass  # Redis restarted, or never ran it
    redis.command("SCRIPT", "LOAD", SLIDING_LOG)
    return redis.command("EVALSHA", SLIDING_LOG_SHA, 1, key, *args)


class SimpleRateThrottle(DrfSimpleRateThrottle):
    """Reads its rate from the settings on each request (DRF's copy is taken at import), so a
    settings override applies at once: the API contract test raises every limit this way.
    With Redis, the log is checked and counted by one script (see SLIDING_LOG)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None or cache_redis() is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        oldest = _sliding_log(
            self.cache.make_key(f"{self.key}:log"),
            [repr(self.now), self.duration, self.num_requests, secrets.token_hex(8)],
        )
        if not oldest:
            return True
        self.oldest = float(oldest)
        return self.throttle_failure()

    def wait(self):
        oldest = getattr(self, "oldest", None)
        if oldest is None:
            return super().wait()
        return max(0.0, self.duration - (self.now - oldest))


class AddressThrottle(SimpleRateThrottle):
    """Counts callers by the address ``client_ip`` finds (trusting only ``NUM_PROXIES`` hops)."""

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class GeneralRateThrottle(AddressThrottle):
    """100 requests a minute per signed-in user (per IP for anonymous callers)."""

    scope = "general"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AuthRateThrottle(AddressThrottle):
    """5 requests a minute per IP address on sign-in, sign-up and password endpoints."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class DeploymentCreateThrottle(SimpleRateThrottle):
    """10 deployments an hour per user; only creation (POST) counts."""

    scope = "deployments"

    def get_cache_key(self, request, view):
        if request.method != "POST" or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
