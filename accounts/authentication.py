"""Bearer tokens for the REST API and WebSockets (accounts.AccessToken)."""

from __future__ import annotations

from importlib import import_module
from urllib.parse import parse_qs

from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http.cookie import parse_cookie
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions

from accounts import services
from controlpanel.dbthreads import off_thread


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``; revoked or expired tokens answer 401 UNAUTHORIZED."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in ("bearer", "token"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        token = services.token_authenticate(header[1])
        if token is None:
            raise exceptions.AuthenticationFailed(
                "The access token is invalid, expired or revoked."
            )
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class WebSocketAuthMiddleware(BaseMiddleware):
    """WebSockets: ``scope["user"]`` from the session cookie, else from ``?token=<access
    token>`` (and ``scope["token"]``); anonymous without either.

    The look-up is one call on the database pool (controlpanel.dbthreads), not on the thread
    every thread-sensitive call of the process waits for, so many clients connecting at once
    are authenticated side by side. A WebSocket never changes its session, so, unlike channels'
    AuthMiddlewareStack, nothing wraps ``send`` (every frame went through that wrapper)."""

    async def __call__(self, scope, receive, send):
        user, token = scope.get("user"), None
        if user is None or not user.is_authenticated:
            session_key = _cookies(scope).get(settings.SESSION_COOKIE_NAME, "")
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            raw = (query.get("token") or [""])[0]
            user = AnonymousUser()
            if session_key or raw:
                user, token = await _authenticate(session_key, raw)
        scope = dict(scope, user=user, token=token)
        return await super().__call__(scope, receive, send)


def _cookies(scope) -> dict[str, str]:
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            return parse_cookie(value.decode("latin-1"))
    return {}


@off_thread
def _authenticate(session_key: str, raw: str):
    """(user, token or None) of a session key or a raw access token, as HTTP requests have."""
    user = _session_user(session_key) if session_key else None
    if user is not None:
        return user, None
    token = services.token_authenticate(raw) if raw else None
    return (token.user if token else AnonymousUser()), token


def _session_user(session_key: str):
    """The active user signed in with this session, as Django's ``auth.get_user`` finds it
    (the session's hash must match the user's password, or a fallback secret's), without
    changing the session: a WebSocket cannot send its browser a new cookie."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = get_user_model()._meta.pk.to_python(session[auth.SESSION_KEY])
        backend_path = session[auth.BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = auth.load_backend(backend_path).get_user(user_id)
    if user is None:
        return None
    given = session.get(auth.HASH_SESSION_KEY) or ""
    hashes = (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
    return user if given and any(constant_time_compare(given, h) for h in hashes) else None
