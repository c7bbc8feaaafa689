"""Backups in the operators' admin: read-only records (runs, restores and drills are made by the
site's Backups tab, the API and beat, whose services check every step; the repository password
never shows)."""

from __future__ import annotations

from django.contrib import admin

from backups.models import Backup, Drill, Repository, Restore, Schedule
from controlpanel.admin_records import RecordAdmin


@admin.register(Repository)
class RepositoryAdmin(RecordAdmin):
    list_display = ("team", "location", "stored_bytes", "measured_at", "initialized_at")
    list_filter = ("initialized_at",)
    search_fields = ("team__name", "location")
    exclude = ("password",)
    list_select_related = ("team",)


@admin.register(Backup)
class BackupAdmin(RecordAdmin):
    list_display = (
        "site",
        "type",
        "state",
        "files",
        "size",
        "verified_at",
        "restorable_at",
        "created_at",
    )
    list_filter = ("state", "type", "has_database", "restorable_at", "created_at")
    search_fields = ("site__name", "site__slug", "snapshot_id", "reason")
    list_select_related = ("site",)


@admin.register(Restore)
class RestoreAdmin(RecordAdmin):
    list_display = ("backup", "target", "state", "phase", "created_by", "created_at", "finished_at")
    list_filter = ("state", "phase", "created_at")
    search_fields = ("backup__site__name", "backup__site__slug", "reason")
    list_select_related = ("backup__site", "target", "created_by")


@admin.register(Drill)
class DrillAdmin(RecordAdmin):
    list_display = ("site", "backup", "state", "files_checked", "rows_checked", "created_at")
    list_filter = ("state", "created_at")
    search_fields = ("site__name", "site__slug", "reason")
    list_select_related = ("site", "backup")


@admin.register(Schedule)
class ScheduleAdmin(RecordAdmin):
    list_display = ("site", "frequency", "hour", "weekday", "next_run_at")
    list_filter = ("frequency",)
    search_fields = ("site__name", "site__slug")
    list_select_related = ("site",)
