"""Record sign-ins, sign-outs and password changes made through Django and allauth."""

from __future__ import annotations

from allauth.account.signals import (
    email_confirmed,
    password_changed,
    password_reset,
    password_set,
)
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_used
from allauth.socialaccount.signals import social_account_added, social_account_removed
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts import services
from accounts.models import SecurityEvent, User
from controlpanel.events import notify_user

Kind = SecurityEvent.Kind
SETUP_AGAIN = "berth_two_factor_setup_again"  # session key: a recovery code was used


@receiver(user_logged_in)
def on_logged_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    services.browser_session_start(user=user, request=request)
    event = services.security_event_record(kind=Kind.SIGN_IN, request=request, user=user)
    notify_user(
        user.pk,
        f"New sign-in to your account from {event.ip_address or 'an unknown address'}.",
        level="info",
    )


@receiver(user_logged_out)
def on_logged_out(sender, request, user, **kwargs):
    if request is None:
        return
    services.browser_session_end(session_key=getattr(request.session, "session_key", None))
    if user is not None and user.pk is not None:  # not after the account was deleted
        services.security_event_record(kind=Kind.SIGN_OUT, request=request, user=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    email = str(credentials.get("email") or credentials.get("username") or "")[:254]
    user = User.objects.filter(email__iexact=email).first() if email else None
    services.security_event_record(
        kind=Kind.SIGN_IN_FAILED, request=request, user=user, email=email
    )


@receiver(password_changed)
@receiver(password_set)
def on_password_changed(sender, request, user, **kwargs):
    # Whoever else holds a session or a token may be who the new password is meant to stop.
    if request is not None and hasattr(request, "session"):
        services.sessions_end_others(user=user, request=request)
    else:
        services.sessions_revoke_all(user=user)
    services.security_event_record(kind=Kind.PASSWORD_CHANGED, request=request, user=user)


@receiver(password_reset)
def on_password_reset(sender, request, user, **kwargs):
    services.sessions_revoke_all(user=user)
    services.security_event_record(kind=Kind.PASSWORD_RESET, request=request, user=user)


@receiver(email_confirmed)
def on_email_confirmed(sender, request, email_address, **kwargs):
    services.security_event_record(
        kind=Kind.EMAIL_VERIFIED, request=request, user=email_address.user
    )


@receiver(social_account_added)
def on_social_added(sender, request, sociallogin, **kwargs):
    services.security_event_record(
        kind=Kind.ACCOUNT_CONNECTED,
        request=request,
        user=sociallogin.user,
        details={"provider": sociallogin.account.provider},
    )


@receiver(social_account_removed)
def on_social_removed(sender, request, socialaccount, **kwargs):
    services.security_event_record(
        kind=Kind.ACCOUNT_DISCONNECTED,
        request=request,
        user=socialaccount.user,
        details={"provider": socialaccount.provider},
    )


@receiver(authenticator_used)
def on_second_factor_used(sender, request, user, authenticator, **kwargs):
    """A recovery code means the usual second factor is lost: lead to setting it up again."""
    if authenticator.type == Authenticator.Type.RECOVERY_CODES and request is not None:
        request.session[SETUP_AGAIN] = True
        services.security_event_record(
            kind=Kind.SIGN_IN, request=request, user=user, details={"recoveryCode": True}
        )
