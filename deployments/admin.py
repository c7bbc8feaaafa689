"""Operators' view of projects, deployments (with cancel and redeploy) and GitHub connections.

Actions call the same services as the pages and the API.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from deployments import services
from deployments.models import (
    Blob,
    Deployment,
    DeploymentStage,
    GitHubConnection,
    LogLine,
    Manifest,
    ManifestEntry,
    Project,
)


class StageInline(admin.TabularInline):
    model = DeploymentStage
    extra = 0
    can_delete = False
    fields = ("name", "status", "started_at", "completed_at", "error_message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("id", "site", "source", "status", "branch", "short_commit", "created_at")
    list_filter = ("status", "source", "created_at")
    search_fields = ("site__name", "site__slug", "project__repository", "commit_hash", "branch")
    list_select_related = ("site", "project")
    inlines = [StageInline]
    actions = ["cancel", "redeploy"]
    readonly_fields = (
        "site",
        "project",
        "author",
        "source",
        "status",
        "manifest",
        "restored_from",
        "redeploy_of",
        "branch",
        "commit_hash",
        "commit_message",
        "commit_author",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "build_duration",
        "build_cpu_seconds",
        "build_memory_peak",
        "task_id",
        "worker",
        "build_pgid",
        "build_dir",
        "heartbeat_at",
        "log_link",
    )
    exclude = ()

    @admin.display(description="Log")
    def log_link(self, obj):
        return format_html(
            '<a href="{}">Full log</a>', reverse("deployments:log-text", args=[obj.pk])
        )

    @admin.action(description="Cancel the selected deployments")
    def cancel(self, request, queryset):
        for deployment in queryset:
            try:
                services.deployment_cancel(deployment=deployment, user=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{deployment}: {' '.join(exc.messages)}", messages.WARNING
                )

    @admin.action(description="Redeploy the selected deployments")
    def redeploy(self, request, queryset):
        for deployment in queryset:
            try:
                services.deployment_redeploy(deployment=deployment, author=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{deployment}: {' '.join(exc.messages)}", messages.WARNING
                )

    def has_add_permission(self, request):
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "repository", "branch", "auto_deploy", "created_at")
    list_filter = ("auto_deploy",)
    search_fields = ("name", "repository", "owner__email")
    list_select_related = ("owner", "site")
    # Secrets stay out of the admin: environment values and the webhook secret.
    exclude = ("env_vars", "webhook_secret")
    readonly_fields = ("owner", "site", "repository", "clone_url", "github_repo_id", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(GitHubConnection)
class GitHubConnectionAdmin(admin.ModelAdmin):
    list_display = ("user", "github_username", "connected_at")
    list_filter = ("connected_at",)
    search_fields = ("user__email", "github_username")
    exclude = ("access_token", "refresh_token")
    readonly_fields = ("user", "github_id", "github_username", "token_expires_at", "connected_at")

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the pipeline and publishing: operators look, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DeploymentStage)
class DeploymentStageAdmin(ReadOnlyAdmin):
    list_display = ("deployment", "name", "status", "started_at", "completed_at")
    list_filter = ("name", "status")
    search_fields = ("deployment__site__name", "error_message")
    list_select_related = ("deployment__site",)


@admin.register(LogLine)
class LogLineAdmin(ReadOnlyAdmin):
    list_display = ("deployment", "seq", "level", "timestamp", "message")
    list_filter = ("level",)
    search_fields = ("message", "deployment__site__name")
    list_select_related = ("deployment__site",)
    show_full_result_count = False


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdmin):
    list_display = ("digest", "size", "gzip_size", "brotli_size", "last_used_at")
    list_filter = ("created_at",)
    search_fields = ("digest",)


class ManifestEntryInline(admin.TabularInline):
    model = ManifestEntry
    extra = 0
    fields = ("path", "blob", "size", "content_type")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Manifest)
class ManifestAdmin(ReadOnlyAdmin):
    list_display = ("digest", "file_count", "total_size", "created_at")
    list_filter = ("created_at",)
    search_fields = ("digest",)
    inlines = [ManifestEntryInline]


@admin.register(ManifestEntry)
class ManifestEntryAdmin(ReadOnlyAdmin):
    list_display = ("path", "manifest", "size", "content_type")
    list_filter = ("content_type",)
    search_fields = ("path", "blob__digest")
    list_select_related = ("manifest",)
