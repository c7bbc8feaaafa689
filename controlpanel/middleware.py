"""Security headers Django does not set itself: a Content-Security-Policy the pages satisfy."""

from __future__ import annotations

from functools import wraps

from django.conf import settings


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(response, "csp", None) or settings.CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


def csp_override(policy: str):
    """Give one view a different policy (the API docs UI needs inline styles)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            response = view(*args, **kwargs)
            response.csp = policy
            return response

        return wrapped

    return decorator
