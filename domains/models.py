"""Domains: registrations, custom domains of sites, DNS zones and records, TLS certificates.

A ``Domain`` is one name a user owns in Berth: registered through a registrar adapter, or
brought from elsewhere and proven by DNS. It may be attached to one site, may have its zone
hosted by Berth (``DnsRecord`` rows published to PowerDNS) and gets ``Certificate`` rows, each
one ACME order and its result.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from controlpanel.crypto import EncryptedTextField
from domains.names import display_name, normalise_domain
from teams.querysets import TeamScopedQuerySet


def new_verification_token() -> str:
    return secrets.token_hex(16)


class DomainQuerySet(TeamScopedQuerySet):
    """Domains are read through ``for_team`` / ``for_member`` (teams.querysets)."""

    team_path = "team"

    def verified(self):
        return self.filter(verification_status=Domain.Verification.VERIFIED)


class Domain(models.Model):
    class Verification(models.TextChoices):
        PENDING = "pending", "Pending"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"

    class Method(models.TextChoices):
        TXT = "txt", "TXT record"
        CNAME = "cname", "CNAME record"
        A = "a", "A/AAAA record"
        REGISTRATION = "registration", "Registered through Berth"

    class Redirect(models.TextChoices):
        NONE = "none", "Serve this name only"
        WWW_TO_APEX = "www_to_apex", "Redirect www. to this name"
        APEX_TO_WWW = "apex_to_www", "Serve www. and redirect this name to it"

    class Registration(models.TextChoices):
        NONE = "", "Not registered through Berth"
        ACTIVE = "active", "Registered"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="domains")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="domains",
        help_text="Who added it; the team owns it.",
    )
    name = models.CharField(max_length=253, help_text="ASCII (IDNA) form, lower case.")
    site = models.ForeignKey(
        "hosting.Site",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="domains",
    )
    is_primary = models.BooleanField(
        default=False, help_text="The site's main address; its other domains redirect here."
    )
    redirect = models.CharField(max_length=16, choices=Redirect.choices, default=Redirect.NONE)

    # Verification (Alt Production Hosting's: a token issued when the domain is added).
    verification_token = models.CharField(max_length=64, default=new_verification_token)
    verification_status = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.PENDING
    )
    verification_method = models.CharField(max_length=12, choices=Method.choices, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_checked_at = models.DateTimeField(null=True, blank=True)
    verification_error = models.CharField(max_length=500, blank=True)
    verification_answer = models.JSONField(
        default=dict, blank=True, help_text="What DNS answered at the last check."
    )

    # Registration through a registrar adapter.
    registration = models.CharField(
        max_length=10, choices=Registration.choices, default=Registration.NONE, blank=True
    )
    registrar = models.CharField(max_length=50, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    auto_renew = models.BooleanField(default=True)
    transfer_lock = models.BooleanField(default=True)
    nameservers = models.JSONField(default=list, blank=True)
    reminded_days = models.IntegerField(
        null=True, blank=True, help_text="The smallest reminder window already emailed."
    )

    # DNS hosting: Berth serves the zone from PowerDNS.
    dns_hosted = models.BooleanField(default=False)
    zone_published_at = models.DateTimeField(null=True, blank=True)
    zone_error = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DomainQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="domains_team_name"),
            # Only one account can have a name verified (or registered) at a time.
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(verification_status="verified"),
                name="domains_verified_name",
            ),
            models.UniqueConstraint(
                fields=["name"], condition=Q(registration="active"), name="domains_registered_name"
            ),
            models.UniqueConstraint(
                fields=["site"], condition=Q(is_primary=True), name="domains_one_primary"
            ),
        ]
        indexes = [
            models.Index(fields=["verification_status", "verification_checked_at"]),
            models.Index(fields=["registration", "expires_at"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self):
        super().clean()
        self.name = normalise_domain(self.name)
        if self.is_primary and not self.site_id:
            raise ValidationError({"is_primary": "Only a domain attached to a site is primary."})
        if self.redirect != self.Redirect.NONE and self.name.startswith("www."):
            raise ValidationError({"redirect": "www./apex redirects apply to the apex name."})

    @property
    def display_name(self) -> str:
        return display_name(self.name)

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED

    @property
    def is_registered(self) -> bool:
        return bool(self.registration)

    @property
    def www_name(self) -> str:
        return f"www.{self.name}"

    @property
    def serving_name(self) -> str:
        """The hostname that serves the site (the other one of the www pair redirects)."""
        return self.www_name if self.redirect == self.Redirect.APEX_TO_WWW else self.name

    @property
    def hostnames(self) -> list[str]:
        """Every hostname this domain answers on: the serving name first."""
        if self.redirect == self.Redirect.NONE:
            return [self.name]
        other = self.name if self.serving_name == self.www_name else self.www_name
        return [self.serving_name, other]

    @property
    def verify_record_name(self) -> str:
        return f"_berth-verify.{self.name}"

    @property
    def days_to_expiry(self) -> int | None:
        if not self.expires_at:
            return None
        return (self.expires_at - timezone.now()).days


class DnsRecordQuerySet(TeamScopedQuerySet):
    """Records belong to their domain's team."""

    team_path = "domain__team"


class DnsRecord(models.Model):
    """One record of a hosted zone. The database is the truth; PowerDNS gets each rrset."""

    class Type(models.TextChoices):
        A = "A", "A"
        AAAA = "AAAA", "AAAA"
        CNAME = "CNAME", "CNAME"
        TXT = "TXT", "TXT"
        MX = "MX", "MX"
        NS = "NS", "NS"
        SRV = "SRV", "SRV"
        CAA = "CAA", "CAA"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="records")
    name = models.CharField(
        max_length=253, help_text="Relative to the zone: “@” for the apex, “www”, “_dmarc”."
    )
    type = models.CharField(max_length=6, choices=Type.choices)
    content = models.CharField(max_length=2000, help_text="Record data in zone-file form.")
    ttl = models.PositiveIntegerField(default=3600)
    priority = models.PositiveIntegerField(null=True, blank=True, help_text="MX and SRV.")
    managed = models.BooleanField(
        default=False, help_text="Written by Berth (verification, ACME); not shown as editable."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DnsRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "DNS record"
        ordering = ["name", "type", "priority", "content"]
        constraints = [
            # Two constraints instead of nulls_distinct=False, which SQLite cannot enforce.
            models.UniqueConstraint(
                fields=["domain", "name", "type", "content", "priority"],
                name="domains_record_unique",
            ),
            models.UniqueConstraint(
                fields=["domain", "name", "type", "content"],
                condition=models.Q(priority__isnull=True),
                name="domains_record_unique_without_priority",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} {self.type} {self.content}"

    @property
    def fqdn(self) -> str:
        return self.domain.name if self.name == "@" else f"{self.name}.{self.domain.name}"


class CertificateQuerySet(TeamScopedQuerySet):
    """Certificates belong to their domain's team."""

    team_path = "domain__team"


class Certificate(models.Model):
    """One ACME order and its result: the job record of issuing (or renewing) a certificate."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ISSUING = "issuing", "Issuing"
        ACTIVE = "active", "Active"
        FAILED = "failed", "Failed"
        REPLACED = "replaced", "Replaced"
        EXPIRED = "expired", "Expired"

    class Challenge(models.TextChoices):
        HTTP01 = "http-01", "HTTP-01"
        DNS01 = "dns-01", "DNS-01"

    FINAL = {Status.ACTIVE, Status.FAILED, Status.REPLACED, Status.EXPIRED}

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="certificates")
    names = models.JSONField(default=list, help_text="DNS names on the certificate.")
    challenge = models.CharField(max_length=8, choices=Challenge.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    directory_url = models.URLField(max_length=500)
    private_key = EncryptedTextField(blank=True)
    certificate_pem = models.TextField(blank=True, help_text="The full chain, leaf first.")
    issuer = models.CharField(max_length=300, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    order_url = models.URLField(max_length=500, blank=True)
    error = models.TextField(blank=True, help_text="The CA's reason for the last failure.")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=50, blank=True)
    renewal_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "not_after"]),
        ]

    def __str__(self) -> str:
        return f"{', '.join(self.names)} ({self.status})"

    @property
    def days_left(self) -> int | None:
        if not self.not_after:
            return None
        return (self.not_after - timezone.now()).days


class AcmeChallenge(models.Model):
    """A challenge waiting for the CA: HTTP-01 token or DNS-01 TXT value, removed afterwards."""

    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="challenges"
    )
    kind = models.CharField(max_length=8, choices=Certificate.Challenge.choices)
    hostname = models.CharField(max_length=253)
    token = models.CharField(max_length=255, db_index=True)
    key_authorization = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "ACME challenge"

    def __str__(self) -> str:
        return f"{self.kind} for {self.hostname}"


class AcmeAccount(models.Model):
    """Berth's account at one ACME directory (key encrypted at rest)."""

    directory_url = models.URLField(max_length=500, unique=True)
    key = EncryptedTextField()
    uri = models.URLField(max_length=500, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "ACME account"

    def __str__(self) -> str:
        return self.directory_url


class RegistryEntry(models.Model):
    """A name in Berth's own registry (the built-in registrar adapter's database)."""

    name = models.CharField(max_length=253, unique=True)
    registrant = models.CharField(max_length=254, help_text="Account that holds it.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    nameservers = models.JSONField(default=list, blank=True)
    transfer_lock = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "registry entries"

    def __str__(self) -> str:
        return self.name
