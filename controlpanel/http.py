"""Who is asking: client address and user agent, behind ``NUM_PROXIES`` trusted proxies.

The servers never rewrite the client address from headers (``manage.py serve`` and the
compose file start daphne and uvicorn without proxy-header handling): this is the one place
that reads ``X-Forwarded-For``, and it believes only the hops the ``NUM_PROXIES`` trusted
proxies appended. Everything else in that header was written by the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The address of whoever sent ``request`` (None when it is not an IP address)."""
    meta = getattr(request, "META", {})
    candidate = meta.get("REMOTE_ADDR", "")
    proxies = settings.NUM_PROXIES
    if proxies:
        hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        # Each trusted proxy appended the address it was called from: the client's is the
        # NUM_PROXIES-th from the right. Fewer hops mean the request did not come through the
        # proxies, so the header is the caller's own words: keep the socket's address.
        if len(hops) >= proxies:
            candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def user_agent(request) -> str:
    return getattr(request, "META", {}).get("HTTP_USER_AGENT", "")[:300]
