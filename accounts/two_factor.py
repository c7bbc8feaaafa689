"""Two-factor sign-in over the API, on top of allauth.mfa's authenticators.

``POST /api/auth/login`` with the right password for an account with a second factor answers
401 TWO_FACTOR_REQUIRED with a short-lived signed ``challenge``; the client sends it back with a
``code`` (from the authenticator app, or a recovery code) and gets its tokens.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.core import signing

CHALLENGE_SALT = "berth.api.two-factor"
CHALLENGE_SECONDS = 300
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


class SecondFactorRequired(Exception):
    """The password was right; the account also needs a code (``challenge`` names the login)."""

    def __init__(self, challenge: str):
        super().__init__("A second factor is required.")
        self.challenge = challenge


def has_two_factor(user) -> bool:
    """Has ``user`` set up a second factor (an authenticator app or a passkey)?"""
    if user is None or not user.is_authenticated:
        return False
    cached = user.__dict__.get("_has_two_factor")
    if cached is None:
        cached = Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).exists()
        user.__dict__["_has_two_factor"] = cached
    return cached


def challenge_issue(user) -> str:
    return signing.dumps({"user": str(user.pk)}, salt=CHALLENGE_SALT, compress=True)


def challenge_user(challenge: str):
    """The user a challenge was issued to, or None when it is forged or older than 5 minutes."""
    try:
        data = signing.loads(challenge or "", salt=CHALLENGE_SALT, max_age=CHALLENGE_SECONDS)
    except signing.BadSignature:
        return None
    return get_user_model().objects.filter(pk=data.get("user"), is_active=True).first()


def code_verify(user, code: str) -> str | None:
    """Check a code from ``user``'s authenticator app or one of their recovery codes; answer
    which kind matched ("totp", "recovery_codes") or None. A code is good once."""
    code = (code or "").strip().replace(" ", "")
    for authenticator in Authenticator.objects.filter(user=user):
        if authenticator.type == Authenticator.Type.TOTP and TOTP(authenticator).validate_code(
            code
        ):
            authenticator.record_usage()
            return authenticator.type
        if authenticator.type == Authenticator.Type.RECOVERY_CODES and RecoveryCodes(
            authenticator
        ).validate_code(code):
            authenticator.record_usage()
            return authenticator.type
    return None
