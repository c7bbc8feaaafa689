"""Who is asking: client address and user agent, behind ``NUM_PROXIES`` trusted proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    meta = getattr(request, "META", {})
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    candidate = meta.get("REMOTE_ADDR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def user_agent(request) -> str:
    return getattr(request, "META", {}).get("HTTP_USER_AGENT", "")[:300]
