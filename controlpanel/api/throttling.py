"""Rate limits (the Autostack API's): auth 5/min per IP, general 100/min per user, deployments
10/hour.

Counters live in the cache, so with Redis configured they hold across every web process.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle as DrfSimpleRateThrottle

from controlpanel.http import client_ip


class SimpleRateThrottle(DrfSimpleRateThrottle):
    """Reads its rate from the settings on each request (DRF's copy is taken at import), so a
    settings override applies at once: the API contract test raises every limit this way."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


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
