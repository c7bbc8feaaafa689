"""Deployments: immutable, content-addressed releases of a site (docs/architecture.md).

A deployment points at a manifest (path -> blob digest, size, content type); manifests and
blobs are shared between deployments, so publishing unchanged files writes nothing and a
rollback is a new deployment over an old manifest.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from controlpanel.crypto import EncryptedTextField
from teams.querysets import TeamScopedQuerySet


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
        verbose_name_plural = "manifest entries"
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["manifest", "path"], name="deployments_entry_path"),
        ]

    def __str__(self) -> str:
        return self.path


class ProjectQuerySet(TeamScopedQuerySet):
    """Projects are read through ``for_team`` / ``for_member`` (teams.querysets)."""

    team_path = "team"


class Project(models.Model):
    """A site's git source and build settings (the Autostack schema's projects)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="projects")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
        help_text="Who connected it; the team owns it.",
    )
    site = models.OneToOneField("hosting.Site", on_delete=models.CASCADE, related_name="project")
    name = models.CharField(max_length=255, help_text="The repository's short name.")
    repository = models.CharField(
        max_length=500, help_text="What the user chose: a GitHub “owner/name” or a git URL."
    )
    clone_url = models.CharField(max_length=1000, help_text="What git clones.")
    github_repo_id = models.CharField(max_length=255, blank=True)
    branch = models.CharField(max_length=255, default="main")
    # Empty build settings are detected from the repository's files at every build.
    install_command = models.TextField(blank=True, help_text="Empty: detected.")
    build_command = models.TextField(blank=True, help_text="Empty: detected.")
    output_dir = models.CharField(max_length=255, blank=True, help_text="Empty: detected.")
    env_vars = EncryptedTextField(blank=True, help_text="JSON object, encrypted at rest.")
    preview_env_vars = EncryptedTextField(
        blank=True,
        help_text="Variables of preview builds (JSON object, encrypted at rest); previews never "
        "see the production ones.",
    )
    auto_deploy = models.BooleanField(default=True, help_text="Deploy on every push to branch.")
    preview_branches = models.CharField(
        max_length=255,
        blank=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9._/*?-]*$",
                "Use “*” for every branch, or a pattern of branch-name characters and * or ?.",
            )
        ],
        help_text="Other branches a push builds as previews: “*” for all, a pattern such as "
        "“feature/*”, or empty for none. Previews never touch production.",
    )
    webhook_secret = EncryptedTextField(blank=True, help_text="Signs GitHub push webhooks.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "repository"], name="deployments_project_team_repo"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DeploymentQuerySet(TeamScopedQuerySet):
    """Deployments belong to their site's team."""

    team_path = "site__team"


class Deployment(models.Model):
    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        GIT = "git", "Git"
        EDITOR = "editor", "Editor"
        ROLLBACK = "rollback", "Rollback"

    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
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

    # Git builds (empty for uploads, editor pages and rollbacks).
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments"
    )
    branch = models.CharField(max_length=255, blank=True)
    preview = models.CharField(
        max_length=63,
        blank=True,
        db_index=True,
        help_text="Built as the preview <preview>--<slug>: never made live.",
    )
    from_fork = models.BooleanField(
        default=False, help_text="A pull request from a fork: built without any variables."
    )
    commit_hash = models.CharField(max_length=40, blank=True)
    commit_message = models.TextField(blank=True)
    commit_author = models.CharField(max_length=255, blank=True)
    redeploy_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="For a redeploy: the deployment whose commit it builds again.",
    )
    build_duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds.")
    build_cpu_seconds = models.FloatField(
        null=True, blank=True, help_text="CPU time the build's commands used (user + system)."
    )
    build_memory_peak = models.BigIntegerField(
        null=True, blank=True, help_text="Bytes: the most memory the build's sandbox held."
    )
    # The job record: Celery task, the worker running it, and its liveness.
    task_id = models.CharField(max_length=255, blank=True)
    worker = models.CharField(max_length=255, blank=True, help_text="host:pid of the builder.")
    build_pgid = models.IntegerField(null=True, blank=True)
    build_dir = models.CharField(max_length=1000, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # A folder deploy waiting for its files (deployments.uploads): ``files``, the manifest it
    # will have (path -> digest), and ``activate``, whether it goes live; then the digests
    # uploaded for it so far. Both are emptied when it is published.
    upload_files = models.JSONField(default=dict, blank=True)
    upload_received = models.JSONField(default=list, blank=True)
    damaged_path = models.CharField(
        max_length=1000,
        blank=True,
        help_text="A file of this release that could not be read when it was served (its "
        "stored contents are missing or unreadable): the release must be deployed again.",
    )

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["site", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["project", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} deployment {str(self.pk)[:8]} of {self.site}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def is_settled(self) -> bool:
        """Final, and nothing more will be written to its log: a build cancelled while it ran
        is settled once its builder has stopped and stamped ``finished_at``."""
        return self.is_final and not (
            self.status == self.Status.CANCELLED and self.finished_at is None
        )

    @property
    def duration_seconds(self) -> float | None:
        if self.build_duration is not None:
            return float(self.build_duration)
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def repo_name(self) -> str:
        if self.project_id is not None:
            return self.project.name
        return self.site.name

    @property
    def short_commit(self) -> str:
        return self.commit_hash[:7]

    @property
    def short_id(self) -> str:
        """The first hex digits of the id: the label part of the deployment's own address."""
        from hosting.hostnames import DEPLOYMENT_ID_LENGTH

        return self.pk.hex[:DEPLOYMENT_ID_LENGTH]

    @property
    def own_hostname(self) -> str | None:
        """``<short id>--<slug>.<SITES_DOMAIN>``: this deployment's files, whatever is live.
        None until the deployment has files to serve."""
        from hosting.hostnames import deployment_hostname

        if self.status != self.Status.SUCCESS or self.manifest_id is None:
            return None
        return deployment_hostname(self.short_id, self.site.slug)

    @property
    def preview_url(self) -> str | None:
        """The preview address this deployment was built for (it serves the newest build)."""
        if not self.preview:
            return None
        return self.site.url_for(f"{self.preview}--{self.site.slug}.{settings.SITES_DOMAIN}")

    @property
    def own_url(self) -> str | None:
        hostname = self.own_hostname
        return None if hostname is None else self.site.url_for(hostname)


class DeploymentStage(models.Model):
    """One step of a build with its timestamps (the Autostack schema's deployment_stages)."""

    # A stage is named after the status it stands for.
    Name = Deployment.Status

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=16, choices=Name.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "name"], name="deployments_stage_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_name_display()}: {self.status}"


class LogLine(models.Model):
    """One line of build output, numbered from 1 per deployment (the Autostack schema's
    deployment_logs)."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    id = models.BigAutoField(primary_key=True)
    # No foreign-key constraint in the database, and no index of its own: PostgreSQL checks a
    # constraint row by row (a trigger per line, about half of what storing a burst of lines
    # cost it), and (deployment, seq) below indexes the column already. Django deletes a
    # deployment's lines with it as before; a builder writes only for the deployment it holds.
    deployment = models.ForeignKey(
        Deployment,
        on_delete=models.CASCADE,
        related_name="log_lines",
        db_constraint=False,
        db_index=False,
    )
    seq = models.PositiveIntegerField()
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    message = models.TextField()
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["deployment", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "seq"], name="deployments_log_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.seq}: {self.message[:60]}"


class GitHubConnection(models.Model):
    """A user's GitHub OAuth token, encrypted at rest (the Autostack schema's github_connections).

    allauth keeps the social account; its SocialToken row is emptied once the token is copied
    here, so no plaintext token stays in the database (see docs/builds.md).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="github_connection"
    )
    github_id = models.CharField(max_length=255, blank=True)
    github_username = models.CharField(max_length=255, blank=True)
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "GitHub connection"

    def __str__(self) -> str:
        return f"GitHub {self.github_username or self.github_id} of {self.user}"
