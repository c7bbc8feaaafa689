"""Every change to accounts goes through here: HTML views, API views, signals and admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts import two_factor
from accounts.models import AccessToken, BrowserSession, Preferences, SecurityEvent, User
from controlpanel import access
from controlpanel.crypto import token_digest
from controlpanel.http import client_ip, user_agent
from controlpanel.prepared import PreparedQuery
from teams.audit import audit_record
from teams.permissions import TOKEN_MANAGE, authorize, restrict_to_team

ACCESS_PREFIX = "brt_"
REFRESH_PREFIX = "brr_"
PERSONAL_PREFIX = "brp_"


def security_event_record(
    *,
    kind: str,
    request=None,
    user: User | None = None,
    email: str = "",
    details: dict | None = None,
) -> SecurityEvent:
    """Add a line to the security log (time, IP and user agent of the request)."""
    return SecurityEvent.objects.create(
        kind=kind,
        user=user,
        email=email or (user.email if user else ""),
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
        details=details or {},
    )


def user_create(*, email: str, password: str, name: str, request=None) -> User:
    """Create an account after validating the address and the password (8+ characters)."""
    email = User.objects.normalize_email(email or "").strip().lower()
    name = (name or "").strip()
    user = User(email=email, name=name)
    errors: dict[str, list[str]] = {}
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not name:
        errors.setdefault("name", []).append("Your name is required.")
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with this email address already exists."]
    try:
        password_validation.validate_password(password or "", user)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        Preferences.objects.create(user=user)
        _link_allauth_email(user)
        security_event_record(kind=SecurityEvent.Kind.SIGN_UP, request=request, user=user)
    return user


class SignInThrottled(Exception):
    """Too many failed sign-ins from this address or for this account; try again later."""


def user_authenticate(*, email: str, password: str, request) -> User | None:
    """Check an email and password with the sign-in page's limits: failures are counted per
    address and per account (``ACCOUNT_RATE_LIMITS["login_failed"]``), so rotating addresses
    does not lift the account's limit. None for a wrong password; SignInThrottled past a limit.
    """
    from allauth.account.adapter import get_adapter

    try:
        return get_adapter(request).authenticate(request, email=email, password=password)
    except ValidationError as exc:  # allauth's "too many login attempts"
        raise SignInThrottled(exc.messages[0]) from exc


def _link_allauth_email(user: User) -> None:
    # allauth keeps its own list of addresses; an API sign-up must appear there too.
    from allauth.account.models import EmailAddress

    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"primary": True, "verified": False}
    )


def preferences_get(*, user: User) -> Preferences:
    prefs, _ = Preferences.objects.get_or_create(user=user)
    return prefs


def preferences_update(*, user: User, **fields) -> Preferences:
    prefs = preferences_get(user=user)
    allowed = {
        "theme",
        "email_notifications",
        "deploy_success_notifications",
        "deploy_failure_notifications",
    }
    for key, value in fields.items():
        if key not in allowed:
            raise ValueError(f"Unknown preference {key!r}")
        setattr(prefs, key, value)
    prefs.full_clean()
    prefs.save()
    return prefs


def profile_update(*, user: User, name: str | None = None, avatar=None, remove_avatar=False):
    """Change the display name and avatar; the email address is not editable here."""
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": ["Your name cannot be empty."]})
        user.name = name
    old_avatar = user.avatar.name if user.avatar else ""
    if remove_avatar:
        user.avatar = ""
    if avatar is not None:
        user.avatar = avatar
    user.full_clean(exclude=["password"])
    user.save()
    if old_avatar and old_avatar != (user.avatar.name if user.avatar else ""):
        user.avatar.storage.delete(old_avatar)
    return user


# --- API tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """Raw tokens exist only here, once; the database keeps their digests."""

    token: AccessToken
    access: str
    refresh: str | None


def _new(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_issue(*, user: User, request=None) -> IssuedToken:
    """Sign in over the API: an access token and a refresh token, both expiring."""
    now = timezone.now()
    access, refresh = _new(ACCESS_PREFIX), _new(REFRESH_PREFIX)
    token = AccessToken.objects.create(
        user=user,
        kind=AccessToken.Kind.LOGIN,
        name="API sign-in",
        prefix=access[:10],
        access_digest=token_digest(access),
        refresh_digest=token_digest(refresh),
        expires_at=now + settings.ACCESS_TOKEN_LIFETIME,
        refresh_expires_at=now + settings.REFRESH_TOKEN_LIFETIME,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
    )
    return IssuedToken(token=token, access=access, refresh=refresh)


def api_login(*, email: str, password: str, request) -> IssuedToken | None:
    """Sign an API client in: a new access/refresh pair and a line in the security log, or
    None when the email and password do not match an active account. The sign-in page's
    limits apply (SignInThrottled): failures per address and per account. For an account with
    two-factor sign-in, raises ``SecondFactorRequired`` with a challenge for ``api_login_code``."""
    user = user_authenticate(
        email=email.strip(), password=password, request=getattr(request, "_request", request)
    )
    if user is None:
        return None
    if two_factor.has_two_factor(user):
        raise two_factor.SecondFactorRequired(two_factor.challenge_issue(user))
    return _api_signed_in(user, request)


def api_login_code(*, challenge: str, code: str, request) -> IssuedToken | None:
    """Finish a two-factor API sign-in: the challenge from ``api_login`` and a code from the
    authenticator app or a recovery code. None when either is wrong or the challenge expired."""
    user = two_factor.challenge_user(challenge)
    if user is None:
        return None
    kind = two_factor.code_verify(user, code)
    if kind is None:
        security_event_record(
            kind=SecurityEvent.Kind.SIGN_IN_FAILED,
            request=request,
            user=user,
            details={"via": "api", "reason": "second factor"},
        )
        return None
    return _api_signed_in(user, request, second_factor=kind)


def _api_signed_in(user: User, request, second_factor: str = "") -> IssuedToken:
    issued = token_issue(user=user, request=request)
    details = {"via": "api"}
    if second_factor:
        details["secondFactor"] = second_factor
    security_event_record(
        kind=SecurityEvent.Kind.SIGN_IN, request=request, user=user, details=details
    )
    return issued


def token_refresh(*, refresh: str, request=None) -> IssuedToken | None:
    """Swap a live refresh token for new access and refresh tokens (the old ones stop working)."""
    now = timezone.now()
    with transaction.atomic():
        token = (
            AccessToken.objects.select_for_update()
            .filter(
                refresh_digest=token_digest(refresh or ""),
                revoked_at__isnull=True,
                refresh_expires_at__gt=now,
                user__is_active=True,
            )
            .first()
        )
        if token is None:
            return None
        access, new_refresh = _new(ACCESS_PREFIX), _new(REFRESH_PREFIX)
        token.access_digest = token_digest(access)
        token.refresh_digest = token_digest(new_refresh)
        token.prefix = access[:10]
        token.expires_at = now + settings.ACCESS_TOKEN_LIFETIME
        token.refresh_expires_at = now + settings.REFRESH_TOKEN_LIFETIME
        token.last_used_at = now
        token.save()
    return IssuedToken(token=token, access=access, refresh=new_refresh)


def personal_token_create(
    *,
    user: User,
    name: str,
    expires_in_days: int | None = None,
    team=None,
    scopes=(),
    request=None,
) -> IssuedToken:
    """A named API token for scripts and integrations, shown to its owner once. With ``team``
    it is a team token: it acts in that team only (admins and owners make them). ``scopes``
    (admin:read, admin:write) let an operator's token use the admin API."""
    scopes = sorted(set(scopes or ()))
    if any(scope not in AccessToken.SCOPES for scope in scopes):
        raise ValidationError({"scopes": ["Choose from admin:read and admin:write."]})
    if scopes and not user.is_staff:
        raise ValidationError({"scopes": ["Only operators may give a token admin scopes."]})
    if scopes and team is not None:
        raise ValidationError({"scopes": ["A team token cannot carry admin scopes."]})
    if team is not None:
        authorize(user, TOKEN_MANAGE, team)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the token a name."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Keep the name under 100 characters."]})
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError({"expires_in_days": ["Choose between 1 and 3650 days."]})
    raw = _new(PERSONAL_PREFIX)
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    token = AccessToken.objects.create(
        user=user,
        team=team,
        kind=AccessToken.Kind.PERSONAL,
        name=name,
        prefix=raw[:10],
        access_digest=token_digest(raw),
        expires_at=expires,
        scopes=" ".join(scopes),
        ip_address=client_ip(request) if request is not None else None,
        user_agent=user_agent(request) if request is not None else "",
    )
    security_event_record(
        kind=SecurityEvent.Kind.TOKEN_CREATED,
        request=request,
        user=user,
        details={"token": token.prefix, "name": name, "team": str(team.pk) if team else ""},
    )
    if team is not None:
        audit_record(team=team, actor=user, action="token.create", obj=token, request=request)
    return IssuedToken(token=token, access=raw, refresh=None)


# Every API request looks its token up: compiled once per process (controlpanel.prepared),
# and the answer kept by the process while access does not change (controlpanel.access).
_TOKEN_BY_DIGEST = PreparedQuery(
    lambda digest: AccessToken.objects.select_related("user").filter(
        access_digest=digest, user__is_active=True
    )
)
_TOKENS = access.LookupCache()


def _token_by_digest(digest: str, generation: int | None) -> AccessToken | None:
    kept = _TOKENS.get(digest, generation)
    if kept is not None:
        token_row, user_row = kept
        token = access.rebuild(AccessToken, token_row)
        AccessToken.user.field.set_cached_value(token, access.rebuild(User, user_row))
        return token
    token = _TOKEN_BY_DIGEST(digest).first()
    if token is not None:
        _TOKENS.put(digest, generation, (access.snapshot(token), access.snapshot(token.user)))
    return token


def token_authenticate(raw: str) -> AccessToken | None:
    """The live token matching a raw bearer token, or None (unknown, revoked or expired)."""
    if not raw or not raw.startswith((ACCESS_PREFIX, PERSONAL_PREFIX)):
        return None
    digest = token_digest(raw)
    generation = access.generation()
    token = _token_by_digest(digest, generation)
    if token is None or not token.access_valid():
        return None
    access.remember_generation(token.user, generation)
    if token.team_id:
        restrict_to_team(token.user, token.team_id)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        kept = _TOKENS.get(digest, generation)
        if kept is not None:
            kept[0]["last_used_at"] = now
    return token


def token_revoke(*, token: AccessToken, request=None, record: bool = True) -> None:
    """End a token at once; a revoked token answers 401 from then on. A team token's end is
    in its team's audit log."""
    revoked = False
    if token.revoked_at is None:
        revoked = AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.revoked_at = timezone.now()
    if revoked and token.team_id:
        actor = getattr(request, "user", None) if request is not None else None
        audit_record(
            team=token.team_id,
            actor=actor if actor is not None and actor.is_authenticated else token.user,
            action="token.revoke",
            obj=token,
            request=request,
        )
    if record and token.kind == AccessToken.Kind.PERSONAL:
        security_event_record(
            kind=SecurityEvent.Kind.TOKEN_REVOKED,
            request=request,
            user=token.user,
            details={"token": token.prefix, "name": token.name},
        )


def api_logout(*, token: AccessToken, request=None) -> None:
    token_revoke(token=token, request=request, record=False)
    security_event_record(
        kind=SecurityEvent.Kind.SIGN_OUT, request=request, user=token.user, details={"via": "api"}
    )


# --- Browser sessions ---------------------------------------------------------------------------


# The session remembers its row: Django gives a session a new key when the password changes.
BROWSER_SESSION = "_berth_browser_session"


def browser_session_start(*, user: User, request) -> None:
    key = request.session.session_key
    if not key:
        request.session.save()
        key = request.session.session_key
    row, _ = BrowserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "ip_address": client_ip(request),
            "user_agent": user_agent(request),
            "last_seen_at": timezone.now(),
        },
    )
    request.session[BROWSER_SESSION] = str(row.pk)


def browser_session_end(*, session_key: str | None) -> None:
    if session_key:
        BrowserSession.objects.filter(session_key=session_key).delete()


def browser_session_revoke(*, session: BrowserSession, request=None) -> None:
    """Sign a browser out: its Django session is deleted, so its next request is anonymous."""
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore(session_key=session.session_key).delete()
    session.delete()
    security_event_record(
        kind=SecurityEvent.Kind.SESSION_REVOKED,
        request=request,
        user=session.user,
        details={"ip": session.ip_address, "userAgent": session.user_agent},
    )


def sessions_revoke_all(*, user: User, keep_session_key: str | None = None) -> int:
    """End every API token (sign-ins and personal tokens) and browser session of a user, but
    the browser session ``keep_session_key``. Returns how many browsers were signed out."""
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    live = AccessToken.objects.filter(user=user, revoked_at__isnull=True)
    for token in live.filter(team__isnull=False):
        audit_record(team=token.team_id, actor=user, action="token.revoke", obj=token)
    live.update(revoked_at=timezone.now())
    ended = 0
    for session in BrowserSession.objects.filter(user=user).exclude(session_key=keep_session_key):
        engine.SessionStore(session_key=session.session_key).delete()
        session.delete()
        ended += 1
    return ended


def sessions_end_others(*, user: User, request) -> None:
    """After a password change: every API token and every other browser is signed out; this
    browser stays signed in (its row follows the new key Django gave its session)."""
    key = request.session.session_key
    row = request.session.get(BROWSER_SESSION)
    if row:
        BrowserSession.objects.filter(pk=row, user=user).exclude(session_key=key).update(
            session_key=key
        )
    sessions_revoke_all(user=user, keep_session_key=key)
    if key and not BrowserSession.objects.filter(session_key=key).exists():
        browser_session_start(user=user, request=request)


def sign_out_everywhere(*, user: User, request) -> int:
    """Sign the user out of every browser, this one included, and end every API token."""
    ended = sessions_revoke_all(user=user)
    security_event_record(
        kind=SecurityEvent.Kind.SIGN_OUT,
        request=request,
        user=user,
        details={"everywhere": True, "browsers": ended},
    )
    return ended


def stale_browser_sessions_prune() -> int:
    """Forget browser sessions whose Django session has expired or gone."""
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    deleted, _ = BrowserSession.objects.exclude(session_key__in=live).delete()
    return deleted


# --- Passwords and account deletion ---------------------------------------------------------


def password_reset_request(*, email: str, request) -> None:
    """Email a reset link if the address has an account; the answer is the same either way."""
    from allauth.account.forms import ResetPasswordForm

    form = ResetPasswordForm(data={"email": email})
    if form.is_valid():
        form.save(request)
    user = User.objects.filter(email__iexact=(email or "").strip()).first()
    security_event_record(
        kind=SecurityEvent.Kind.PASSWORD_RESET_REQUESTED, request=request, user=user, email=email
    )


def password_reset_confirm(*, key: str, password: str, request) -> User:
    """Set a new password from an emailed reset key (``<uidb36>-<token>``); ends every session."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import url_str_to_user_pk

    uidb36, _, token = (key or "").partition("-")
    user = None
    try:
        user = User.objects.get(pk=url_str_to_user_pk(uidb36), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist, ValidationError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationError({"token": ["This reset link is invalid or has expired."]})
    try:
        password_validation.validate_password(password or "", user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    sessions_revoke_all(user=user)
    security_event_record(kind=SecurityEvent.Kind.PASSWORD_RESET, request=request, user=user)
    return user


def account_delete(*, user: User, password: str, request=None) -> None:
    """Delete an account and everything it owns, after confirming the password.

    The deletion itself stays in the security log (address, time, IP) for operators.
    """
    if not user.has_usable_password() or not user.check_password(password or ""):
        raise ValidationError({"password": ["The password is not correct."]})
    from hosting.services import site_delete

    email = user.email
    with transaction.atomic():
        for site in list(user.sites.all()):
            site_delete(site=site)  # its files go too, once this commits
        sessions_revoke_all(user=user)
        SecurityEvent.objects.filter(user=user).delete()
        if user.avatar:
            user.avatar.delete(save=False)
        user.delete()
        security_event_record(kind=SecurityEvent.Kind.ACCOUNT_DELETED, request=request, email=email)


# --- changing the sign-in address -------------------------------------------------------------
# A signed link goes to the new address; only following it changes the account, so the old
# address keeps working until then.
EMAIL_CHANGE_SALT = "berth.accounts.email-change"
EMAIL_CHANGE_SECONDS = 24 * 3600


def email_change_request(*, user: User, new_email: str) -> str:
    """Email a confirmation link to ``new_email``; answer the link."""
    new_email = User.objects.normalize_email(new_email or "").strip().lower()
    probe = User(email=new_email, name=user.name)
    try:
        probe.clean_fields(exclude=[f.name for f in User._meta.fields if f.name != "email"])
    except ValidationError as exc:
        raise ValidationError(
            {"email": exc.message_dict.get("email", ["Enter an address."])}
        ) from None
    if new_email == user.email:
        raise ValidationError({"email": ["That is already your sign-in address."]})
    if User.objects.filter(email__iexact=new_email).exists():
        raise ValidationError({"email": ["Another account uses that address."]})
    key = signing.dumps(
        {"user": str(user.pk), "old": user.email, "new": new_email}, salt=EMAIL_CHANGE_SALT
    )
    link = settings.PANEL_URL.rstrip("/") + reverse("email-change-confirm", args=[key])
    send_mail(
        "Confirm your new sign-in address for Berth",
        f"Follow this link to sign in to Berth with {new_email} from now on:\n{link}\n\n"
        "It works for 24 hours. If you did not ask for this, ignore this email.",
        None,
        [new_email],
    )
    return link


def email_change_confirm(*, user: User, key: str, request=None) -> User:
    """Make the address in ``key`` ``user``'s sign-in address (and allauth's verified primary)."""
    try:
        data = signing.loads(key, salt=EMAIL_CHANGE_SALT, max_age=EMAIL_CHANGE_SECONDS)
    except signing.BadSignature as exc:
        raise ValidationError("This link is invalid or has expired; ask for a new one.") from exc
    if data.get("user") != str(user.pk) or data.get("old") != user.email:
        raise ValidationError("This link is for another account or an older change.")
    new_email = data["new"]
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        raise ValidationError("Another account uses that address now.")
    old = user.email
    with transaction.atomic():
        user.email = new_email
        user.save(update_fields=["email", "updated_at"])
        EmailAddress.objects.filter(user=user).delete()
        EmailAddress.objects.create(user=user, email=new_email, primary=True, verified=True)
        security_event_record(
            kind=SecurityEvent.Kind.EMAIL_VERIFIED,
            request=request,
            user=user,
            details={"changedFrom": old, "changedTo": new_email},
        )
    return user
