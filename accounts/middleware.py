"""Keep the list of signed-in browsers current without a query on every request."""

from __future__ import annotations

import time

from django.utils import timezone

from accounts.models import BrowserSession

TOUCH_EVERY = 300  # seconds


class BrowserSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None:
            seen = session.get("_berth_seen", 0)
            now = time.time()
            if now - seen > TOUCH_EVERY and session.session_key:
                session["_berth_seen"] = now
                BrowserSession.objects.filter(session_key=session.session_key).update(
                    last_seen_at=timezone.now()
                )
        return response
