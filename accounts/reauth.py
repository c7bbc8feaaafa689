"""Asking again: creating API tokens and changing security settings need a recent check of
the password (or a second factor), at most ``REAUTHENTICATION_SECONDS`` old.

Browser sessions use allauth's record of when the person last proved who they are (its
``/accounts/reauthenticate/`` page asks again). API clients signed in with ``/api/auth/login``
count from that sign-in; otherwise they send ``password`` (or ``code``) with the request.
"""

from __future__ import annotations

import time
from functools import wraps

from allauth.account import app_settings as allauth_account
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.utils import timezone

from accounts.models import AccessToken
from accounts.two_factor import code_verify, has_two_factor

REAUTHENTICATION_SECONDS = allauth_account.REAUTHENTICATION_TIMEOUT


def recently_checked(request) -> bool:
    """Did the caller prove who they are within the last few minutes?"""
    token = getattr(request, "auth", None)
    if isinstance(token, AccessToken):
        age = (timezone.now() - token.created_at).total_seconds()
        return token.kind == AccessToken.Kind.LOGIN and age < REAUTHENTICATION_SECONDS
    request = getattr(request, "_request", request)
    records = get_authentication_records(request, request.user)
    return bool(records) and time.time() - records[-1]["at"] < REAUTHENTICATION_SECONDS


def recent_check_required(view):
    """A page whose changes need a recent sign-in or check: otherwise allauth's page asks for
    the password (or a second factor) again, then the change goes through."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") and not recently_checked(request):
            raise ReauthenticationRequired()
        return view(request, *args, **kwargs)

    return wrapper


def check_again(*, user, password: str = "", code: str = "") -> bool:
    """The password, or a code from the second factor, proves it is still ``user``."""
    if password and user.check_password(password):
        return True
    return bool(code) and has_two_factor(user) and code_verify(user, code) is not None
