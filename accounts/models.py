"""Users (email login), their preferences, API tokens, browser sessions and the security log."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from controlpanel.access import AccessQuerySet


def avatar_path(user: User, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    return f"avatars/{user.pk}/{uuid.uuid4().hex}.{ext}"


class UserQuerySet(AccessQuerySet):
    access_neutral = frozenset({"last_login"})


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account: signs in with their email address."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=150)
    avatar = models.ImageField(upload_to=avatar_path, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField("operator", default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    current_team = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The team pages and the seeds' API endpoints act in.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split()[0]

    @property
    def initials(self) -> str:
        parts = (self.name or self.email).replace("@", " ").split()
        return "".join(p[0] for p in parts[:2]).upper()


class Preferences(models.Model):
    """A user's notification and appearance choices (the Autostack schema's user_preferences)."""

    class Theme(models.TextChoices):
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"
        SYSTEM = "system", "System"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="preferences")
    theme = models.CharField(max_length=10, choices=Theme.choices, default=Theme.SYSTEM)
    email_notifications = models.BooleanField(default=True)
    deploy_success_notifications = models.BooleanField(default=True)
    deploy_failure_notifications = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class AccessTokenQuerySet(AccessQuerySet):
    access_neutral = frozenset({"last_used_at"})

    def for_user(self, user):
        return self.filter(user=user)

    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True)
            | models.Q(expires_at__gt=now)
            | models.Q(refresh_expires_at__gt=now)
        )


class AccessToken(models.Model):
    """A server-side API session: a sign-in (access + refresh token) or a personal API token.

    Only SHA-256 digests of the tokens are stored; revoking or expiring the row ends it at once.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", "API sign-in"
        PERSONAL = "personal", "API token"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    team = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        help_text="A team token acts only in this team; empty: the user's current team.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    access_digest = models.CharField(max_length=64, unique=True)
    refresh_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    scopes = models.CharField(
        max_length=100,
        blank=True,
        help_text="An operator's personal token: admin:read and/or admin:write, space-separated. "
        "Without them it cannot use the admin API.",
    )

    ADMIN_READ = "admin:read"
    ADMIN_WRITE = "admin:write"
    SCOPES = (ADMIN_READ, ADMIN_WRITE)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.prefix}… of {self.user}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def allows(self, scope: str) -> bool:
        """Does this token carry ``scope``? (admin:write includes admin:read; an API sign-in
        acts with its person's full rights.)"""
        if self.kind == self.Kind.LOGIN:
            return True
        held = set(self.scopes.split())
        return scope in held or (scope == self.ADMIN_READ and self.ADMIN_WRITE in held)

    def access_valid(self, at=None) -> bool:
        at = at or timezone.now()
        return not self.is_revoked and (self.expires_at is None or self.expires_at > at)


class BrowserSession(models.Model):
    """A signed-in browser: one Django session, listed in settings so it can be revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="browser_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"Browser session of {self.user} from {self.ip_address}"


class SecurityEvent(models.Model):
    """One line of the security log: who, what, when, from where."""

    class Kind(models.TextChoices):
        SIGN_UP = "sign_up", "Account created"
        SIGN_IN = "sign_in", "Signed in"
        SIGN_IN_FAILED = "sign_in_failed", "Failed sign-in"
        SIGN_OUT = "sign_out", "Signed out"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset requested"
        PASSWORD_RESET = "password_reset", "Password reset"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        SESSION_REVOKED = "session_revoked", "Session revoked"
        EMAIL_VERIFIED = "email_verified", "Email address verified"
        ACCOUNT_CONNECTED = "account_connected", "External account connected"
        ACCOUNT_DISCONNECTED = "account_disconnected", "External account disconnected"
        ACCOUNT_DELETED = "account_deleted", "Account deleted"

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="security_events"
    )
    email = models.EmailField(blank=True, help_text="The address involved, kept for the record.")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.email or 'unknown'})"


class Notification(models.Model):
    """A toast for a user's open pages, stored first so every process can deliver it."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        SUCCESS = "success", "Success"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    message = models.CharField(max_length=300)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "id"])]

    def __str__(self) -> str:
        return self.message

    def payload(self) -> dict:
        return {
            "type": "toast",
            "id": self.pk,
            "message": self.message,
            "level": self.level,
            **self.data,
        }
