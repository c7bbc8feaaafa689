"""Editor pages: GrapesJS project data (the source of truth) with every saved revision, the
starter templates pages are made from, and the record of each publish."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from teams.querysets import TeamScopedQuerySet


class Template(models.Model):
    """A starter: one or more pages (title, path, document) a site can start from.

    The ones shipped with Berth (``builtin``) are kept in step with ``editor/starters/`` after
    every migrate; operators add their own in the admin."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    category = models.CharField(max_length=40, blank=True)
    pages = models.JSONField(
        default=list,
        help_text='A list of {"slug", "title", "description", "document"}; the first is the home.',
    )
    builtin = models.BooleanField(default=False, editable=False)
    position = models.PositiveIntegerField(default=100)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Each page needs a title, an address and a document the editor accepts."""
        from django.core.exceptions import ValidationError

        from editor.documents import DocumentInvalid, document_clean

        if not isinstance(self.pages, list) or not self.pages:
            raise ValidationError({"pages": ["Give at least one page."]})
        for number, page in enumerate(self.pages, start=1):
            if not isinstance(page, dict) or not page.get("title") or not page.get("slug"):
                raise ValidationError({"pages": [f"Page {number} needs a “title” and a “slug”."]})
            try:
                document_clean(page.get("document"))
            except DocumentInvalid as exc:
                raise ValidationError({"pages": [f"Page {number}: {exc.messages[0]}"]}) from exc


class PageQuerySet(TeamScopedQuerySet):
    team_path = "site__team"


class Page(models.Model):
    """One page of a site made in the editor, published at ``/`` (the home) or ``/<slug>/``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    site = models.ForeignKey("hosting.Site", on_delete=models.CASCADE, related_name="editor_pages")
    slug = models.CharField(max_length=60)
    title = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    social_image = models.CharField(
        max_length=500, blank=True, help_text="An https:// URL or a path on the site."
    )
    is_home = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    document = models.TextField(help_text="GrapesJS project data (JSON), as last saved.")
    revision = models.PositiveIntegerField(default=1, help_text="The number of the last save.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["-is_home", "position", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["site", "slug"], name="editor_page_slug_unique"),
            models.UniqueConstraint(
                fields=["site"], condition=Q(is_home=True), name="editor_one_home_per_site"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def path(self) -> str:
        """Where the page is published on the site."""
        return "/" if self.is_home else f"/{self.slug}/"


class RevisionQuerySet(TeamScopedQuerySet):
    team_path = "page__site__team"


class Revision(models.Model):
    """A saved state of a page's document; every save that changes it makes one."""

    class Reason(models.TextChoices):
        CREATED = "created", "Created"
        SAVE = "save", "Saved"
        RESTORE = "restore", "Restored"

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    document = models.TextField()
    digest = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.SAVE)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["page", "number"], name="editor_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.page} #{self.number}"


class PublicationQuerySet(TeamScopedQuerySet):
    team_path = "site__team"


class Publication(models.Model):
    """One publish of a site's editor pages: which revisions went out, as which deployment, and
    the files written (so a later publish removes the files of pages deleted since)."""

    site = models.ForeignKey("hosting.Site", on_delete=models.CASCADE, related_name="+")
    deployment = models.ForeignKey(
        "deployments.Deployment", on_delete=models.CASCADE, related_name="+"
    )
    revisions = models.JSONField(default=dict, help_text="Page id -> revision number.")
    paths = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.site} published {self.created_at:%Y-%m-%d %H:%M}"
