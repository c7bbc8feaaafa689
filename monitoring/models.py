"""What the status page and the operators' pages are made of.

A ``Service`` is one checked component; every check is a ``CheckResult`` (kept two days) and is
added at once to its hour's and day's rollup (kept 30 days and a year), so a 90-day history is at
most 90 ``DailyRollup`` rows per service. ``Incident`` rows are opened and resolved by the checks
or written by operators; ``Host`` and ``HostSample`` are the heartbeats of Berth's machines.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Status(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"


class Service(models.Model):
    """A component shown on the status page, checked by ``kind`` against ``target``."""

    class Kind(models.TextChoices):
        PANEL = "panel", "Panel (HTTP /health)"
        DATABASE = "database", "Database"
        REDIS = "redis", "Redis"
        SITES = "sites", "Site serving (canary site)"
        BUILDS = "builds", "Build service"
        DNS = "dns", "DNS (PowerDNS)"
        S3 = "s3", "Object storage (S3)"
        HTTP = "http", "HTTP endpoint"
        TCP = "tcp", "TCP port"
        PROCESS = "process", "Supervised process"

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.JSONField(
        default=dict, blank=True, help_text='What to check, e.g. {"url": "redis://host:6379/0"}.'
    )
    position = models.PositiveSmallIntegerField(default=100)
    enabled = models.BooleanField(default=True)
    automatic = models.BooleanField(
        default=False, help_text="Made from Berth's configuration; kept in step with it."
    )
    # The latest check, stored first and then broadcast.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPERATIONAL)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class CheckResult(models.Model):
    """One check of one service (raw, kept ``MONITORING_RAW_DAYS``)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="results")
    checked_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        indexes = [models.Index(fields=["service", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.service_id} {self.status} at {self.checked_at:%Y-%m-%d %H:%M}"


class Rollup(models.Model):
    """Counts of a service's checks over one period; uptime is ``1 - down / checks``."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    checks = models.PositiveIntegerField(default=0)
    operational = models.PositiveIntegerField(default=0)
    degraded = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0)
    response_time_sum_ms = models.BigIntegerField(default=0)
    response_time_count = models.PositiveIntegerField(default=0)
    response_time_max_ms = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def uptime(self) -> float | None:
        if not self.checks:
            return None
        return round(100 * (self.checks - self.down) / self.checks, 3)

    @property
    def response_time_avg_ms(self) -> int | None:
        if not self.response_time_count:
            return None
        return round(self.response_time_sum_ms / self.response_time_count)


class HourlyRollup(Rollup):
    hour = models.DateTimeField(help_text="Start of the hour (UTC).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "hour"], name="monitoring_hourly_unique")
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.hour:%Y-%m-%d %H}:00"


class DailyRollup(Rollup):
    day = models.DateField(help_text="UTC day.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "day"], name="monitoring_daily_unique")
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.day}"


class Incident(models.Model):
    class State(models.TextChoices):
        INVESTIGATING = "investigating", "Investigating"
        IDENTIFIED = "identified", "Identified"
        MONITORING = "monitoring", "Monitoring"
        RESOLVED = "resolved", "Resolved"

    class Severity(models.TextChoices):
        MINOR = "minor", "Minor"
        MAJOR = "major", "Major"
        CRITICAL = "critical", "Critical"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.INVESTIGATING)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MINOR)
    services = models.ManyToManyField(Service, related_name="incidents", blank=True)
    automatic = models.BooleanField(default=False, help_text="Opened by the checks.")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="resolved", resolved_at__isnull=False)
                | (~models.Q(state="resolved") & models.Q(resolved_at__isnull=True)),
                name="monitoring_incident_resolved_at",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state != self.State.RESOLVED


class IncidentUpdate(models.Model):
    """One line of an incident's timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    state = models.CharField(max_length=16, choices=Incident.State.choices)
    message = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.state}: {self.message[:60]}"


def _token() -> str:
    return secrets.token_urlsafe(32)


class Subscriber(models.Model):
    """An address that gets incident emails once it has confirmed (double opt-in)."""

    email = models.EmailField(unique=True)
    token = models.CharField(max_length=64, unique=True, default=_token)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.email


class Host(models.Model):
    """A machine running part of Berth (web, worker, edge), known from its heartbeats."""

    name = models.CharField(max_length=200, unique=True)
    roles = models.JSONField(default=list, blank=True)
    last_seen_at = models.DateTimeField(default=timezone.now)
    cpu_count = models.PositiveSmallIntegerField(default=1)
    memory_total = models.BigIntegerField(default=0)
    disk_total = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class HostSample(models.Model):
    """A psutil sample sent with a heartbeat; percentages 0–100."""

    host = models.ForeignKey(Host, on_delete=models.CASCADE, related_name="samples")
    taken_at = models.DateTimeField(default=timezone.now)
    cpu = models.FloatField()
    memory = models.FloatField()
    disk = models.FloatField()
    load1 = models.FloatField()

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["host", "-taken_at"])]

    def __str__(self) -> str:
        return f"{self.host_id} at {self.taken_at:%Y-%m-%d %H:%M}"


class SiteUsageDay(models.Model):
    """CPU time and memory of a site's supervised processes (a WordPress site's PHP pool) on
    one day, from psutil readings: one row per site and day, however often it is read.

    ``process_pid`` and ``process_cpu`` are the last reading's process and its cumulative CPU
    time, so the next reading adds only what was used since (all of it for a new process)."""

    site = models.ForeignKey("hosting.Site", on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    cpu_seconds = models.FloatField(default=0, help_text="User + system CPU time that day.")
    memory_peak = models.BigIntegerField(default=0, help_text="Bytes: the highest reading.")
    memory_last = models.BigIntegerField(default=0, help_text="Bytes: the latest reading.")
    memory_total = models.BigIntegerField(default=0, help_text="Bytes: the host's memory.")
    sampled_at = models.DateTimeField(default=timezone.now)
    process_pid = models.PositiveIntegerField(default=0)
    process_cpu = models.FloatField(default=0)

    class Meta:
        verbose_name = "site resource usage (a day)"
        verbose_name_plural = "site resource usage by day"
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="monitoring_usage_site_day"),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}: {self.cpu_seconds:.1f} s CPU"
