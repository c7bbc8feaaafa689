"""Bearer tokens for the REST API and WebSockets (accounts.AccessToken)."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions

from accounts import services


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


class TokenAuthMiddleware(BaseMiddleware):
    """WebSockets: authenticate ``?token=<access token>`` when there is no session user."""

    async def __call__(self, scope, receive, send):
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            raw = (query.get("token") or [""])[0]
            if raw:
                token = await database_sync_to_async(services.token_authenticate)(raw)
                scope = dict(scope, user=token.user if token else AnonymousUser(), token=token)
        return await super().__call__(scope, receive, send)
