"""Sites ("hosting spaces"): what a user hosts, its limits and usage, and which release is live."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from controlpanel.crypto import EncryptedTextField
from hosting.slugs import slug_problem
from teams.querysets import TeamScopedQuerySet


def validate_site_slug(value: str) -> None:
    """The address rules of hosting/slugs.py, for the model (and so the API and the form)."""
    problem = slug_problem(value)
    if problem:
        raise ValidationError(problem)


class SiteQuerySet(TeamScopedQuerySet):
    """Sites are read through ``for_team`` / ``for_member`` (teams.querysets)."""

    team_path = "team"


class Site(models.Model):
    class Kind(models.TextChoices):
        STATIC = "static", "Static site"
        WORDPRESS = "wordpress", "WordPress"

    class Status(models.TextChoices):
        PROVISIONING = "provisioning", "Provisioning"
        ONLINE = "online", "Online"
        OFFLINE = "offline", "Offline"
        ERROR = "error", "Error"

    class PreviewProtection(models.TextChoices):
        OFF = "off", "Anyone with the address"
        TEAM = "team", "Members of the team, signed in"
        PASSWORD = "password", "Anyone with the password"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="sites")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sites",
        help_text="Who created it; the team owns it.",
    )
    name = models.CharField(max_length=100)
    slug = models.CharField(
        max_length=63,
        unique=True,
        validators=[validate_site_slug],
        # Plain text: the admin shows help as HTML, where "<slug>" would be a tag and vanish.
        help_text="The site's address is this label, a dot and SITES_DOMAIN (docs.example.com).",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STATIC)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROVISIONING)
    status_message = models.CharField(max_length=300, blank=True)
    storage_limit = models.BigIntegerField(help_text="Bytes of files the site may keep.")
    bandwidth_limit = models.BigIntegerField(help_text="Bytes the site may serve per month.")
    rate_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Bytes per second each response is served at (a plan's bandwidth overage); "
        "empty: full speed.",
    )
    storage_used = models.BigIntegerField(default=0, help_text="Bytes of working files.")
    live_deployment = models.ForeignKey(
        "deployments.Deployment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The release being served; switching it is the deploy.",
    )
    preview_protection = models.CharField(
        max_length=10,
        choices=PreviewProtection.choices,
        default=PreviewProtection.OFF,
        help_text="Who may open the site's preview and deployment addresses.",
    )
    preview_password = models.CharField(
        max_length=128, blank=True, help_text="The previews' password, hashed."
    )
    preview_secret = EncryptedTextField(
        blank=True, help_text="Signs the cookie of an unlocked preview; new on every change."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def hostname(self) -> str:
        return f"{self.slug}.{settings.SITES_DOMAIN}"

    @property
    def url(self) -> str:
        return self.url_for(self.hostname)

    @staticmethod
    def url_for(hostname: str) -> str:
        """The address visitors use for one of the site's hostnames (scheme and port)."""
        port = settings.SITES_PORT
        default = {"http": 80, "https": 443}.get(settings.SITES_SCHEME)
        suffix = f":{port}" if port and port != default else ""
        return f"{settings.SITES_SCHEME}://{hostname}{suffix}"

    @property
    def status_label(self) -> str:
        """The status as pages word it: a site nothing was ever deployed to is not "being
        provisioned", it is waiting for its first deployment."""
        waiting = self.status == self.Status.PROVISIONING and self.live_deployment_id is None
        if waiting and self.kind == self.Kind.STATIC:
            return "No deployment yet"
        return self.get_status_display()

    @property
    def is_served(self) -> bool:
        return self.status == self.Status.ONLINE and self.live_deployment_id is not None


class SiteBandwidth(models.Model):
    """Bytes and requests served for a site on one day (embedded server and nginx edge)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="bandwidth_days")
    day = models.DateField()
    bytes_sent = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "site bandwidth (a day)"
        verbose_name_plural = "site bandwidth by day"
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="hosting_bandwidth_site_day"),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.day}: {self.bytes_sent} bytes"


class SiteStatusDay(models.Model):
    """Responses a site gave with one status code on one day (embedded server and nginx edge):
    a handful of rows per site and day, however many requests."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="status_days")
    day = models.DateField()
    status = models.PositiveSmallIntegerField(help_text="HTTP status code answered.")
    requests = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "site responses by status (a day)"
        verbose_name_plural = "site responses by status and day"
        ordering = ["-day", "status"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "day", "status"], name="hosting_status_site_day_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.day} {self.status}: {self.requests}"


class SitePathDay(models.Model):
    """A site's most requested paths on one day: at most ``TOP_PATHS`` rows per site and day,
    plus one row with an empty path that counts every other path."""

    TOP_PATHS = 50
    OTHER = ""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="path_days")
    day = models.DateField()
    path = models.CharField(max_length=500, blank=True, help_text="Empty: all other paths.")
    requests = models.BigIntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "site top path (a day)"
        verbose_name_plural = "site top paths by day"
        ordering = ["-day", "-requests"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "day", "path"], name="hosting_path_site_day_path"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.day} {self.path or '(other paths)'}: {self.requests}"
