"""Deployments: immutable, content-addressed releases of a site (DESIGN.md).

A deployment points at a manifest (path -> blob digest, size, content type); manifests and
blobs are shared between deployments, so publishing unchanged files writes nothing and a
rollback is a new deployment over an old manifest.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Blob(models.Model):
    """File contents, stored once under their SHA-256 digest (see deployments.blobs)."""

    digest = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    gzip_size = models.BigIntegerField(null=True, blank=True, help_text="Set when a .gz exists.")
    brotli_size = models.BigIntegerField(null=True, blank=True, help_text="Set when a .br exists.")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="Last published; garbage collection waits."
    )

    def __str__(self) -> str:
        return self.digest[:12]


class Manifest(models.Model):
    """A whole site tree; its digest is of the sorted (path, blob digest) listing."""

    digest = models.CharField(max_length=64, unique=True)
    file_count = models.PositiveIntegerField(default=0)
    total_size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"manifest {self.digest[:12]} ({self.file_count} files)"


class ManifestEntry(models.Model):
    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="entries")
    path = models.CharField(max_length=1024, help_text="Relative, '/'-separated, no leading '/'.")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="entries")
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=150)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["manifest", "path"], name="deployments_entry_path"),
        ]

    def __str__(self) -> str:
        return self.path


class DeploymentQuerySet(models.QuerySet):
    def for_user(self, user):
        """The one place reads of deployments are scoped: only the site owner's."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(site__owner=user)


class Deployment(models.Model):
    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        GIT = "git", "Git"
        EDITOR = "editor", "Editor"
        ROLLBACK = "rollback", "Rollback"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        BUILDING = "building", "Building"
        DEPLOYING = "deploying", "Deploying"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL_STATUSES = (Status.SUCCESS, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey("hosting.Site", on_delete=models.CASCADE, related_name="deployments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who started it.",
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    manifest = models.ForeignKey(
        Manifest, null=True, blank=True, on_delete=models.PROTECT, related_name="deployments"
    )
    restored_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="For a rollback: the deployment whose files it restores.",
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["site", "-created_at"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} deployment {str(self.pk)[:8]} of {self.site}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
