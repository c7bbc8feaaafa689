"""A WordPress site's provisioning record and settings, beside its hosting Site.

The row is the job record of provisioning: queued -> running -> done | failed, with the Celery
task id, timestamps and the reason of a failure; the ``update_*`` fields are the same for a
core update. The Site's own status says what visitors get
(provisioning, online, offline, error).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from controlpanel.crypto import EncryptedTextField


class WordPressSite(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    FINAL_STATES = (State.DONE, State.FAILED)

    site = models.OneToOneField(
        "hosting.Site", primary_key=True, on_delete=models.CASCADE, related_name="wordpress"
    )
    title = models.CharField(max_length=200)
    admin_user = models.CharField(max_length=60)
    admin_email = models.EmailField()
    # Only until WordPress's installer has hashed it into the site's own database.
    admin_password = EncryptedTextField(blank=True)
    db_name = models.CharField(max_length=64)
    db_user = models.CharField(max_length=80)
    db_password = EncryptedTextField()
    unix_user = models.CharField(max_length=32, blank=True, help_text="Empty: the panel's own.")
    memory_limit_mb = models.PositiveIntegerField()
    upload_limit_mb = models.PositiveIntegerField()
    max_execution_seconds = models.PositiveIntegerField()
    debug = models.BooleanField(default=False, help_text="WP_DEBUG, errors shown on the pages.")
    maintenance = models.BooleanField(
        default=False, help_text="Visitors get a 503 maintenance page; admins work as usual."
    )
    version = models.CharField(max_length=20, blank=True, help_text="WordPress version installed.")
    # A core update is a job of its own: queued -> running -> done | failed, after a backup.
    update_state = models.CharField(max_length=10, choices=State.choices, blank=True)
    update_task_id = models.CharField(max_length=64, blank=True)
    update_error = models.TextField(blank=True)
    update_started_at = models.DateTimeField(null=True, blank=True)
    update_finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "WordPress site"

    def __str__(self) -> str:
        return f"WordPress {self.title}"
