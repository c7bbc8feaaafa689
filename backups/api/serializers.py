"""JSON shapes of backups: the Cloud Haven client's Backup (``id, siteId, created, size,
type``) with Berth's job fields beside it (camelCase, sizes in bytes)."""

from __future__ import annotations

from rest_framework import serializers

from backups.models import Backup, State
from controlpanel.api.schema import IsoDateTimeField, paginated


class BackupSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    siteId = serializers.UUIDField(source="site_id")
    created = IsoDateTimeField(source="created_at")
    size = serializers.IntegerField(help_text="Bytes of the files the snapshot holds.")
    type = serializers.ChoiceField(choices=Backup.Type.choices)
    state = serializers.ChoiceField(choices=State.choices)
    reason = serializers.CharField(help_text="Why it failed (empty otherwise).")
    snapshotId = serializers.CharField(source="snapshot_id")
    files = serializers.IntegerField()
    addedBytes = serializers.IntegerField(source="added_bytes")
    hasDatabase = serializers.BooleanField(source="has_database")
    verifiedAt = IsoDateTimeField(
        source="verified_at", allow_null=True, help_text="When restic check and the listing passed."
    )
    restorableAt = IsoDateTimeField(
        source="restorable_at",
        allow_null=True,
        help_text="When a restore drill last restored it and every checksum and row count matched.",
    )
    drillError = serializers.CharField(
        source="drill_error", help_text="Why its last restore drill failed (empty otherwise)."
    )
    phase = serializers.CharField(help_text="What a running backup does (empty otherwise).")
    filesDone = serializers.IntegerField(source="progress_files")
    bytesDone = serializers.IntegerField(source="progress_bytes")
    totalFiles = serializers.IntegerField(source="total_files")
    totalBytes = serializers.IntegerField(source="total_bytes")
    startedAt = IsoDateTimeField(source="started_at", allow_null=True)
    finishedAt = IsoDateTimeField(source="finished_at", allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds.")
    stream = serializers.SerializerMethodField(
        help_text="WebSocket path of its live progress (events: progress, backup_complete)."
    )

    def get_stream(self, backup) -> str:
        return f"/api/backups/{backup.pk}/stream"


BackupPageSerializer = paginated("BackupPageSerializer", "backups", BackupSerializer)


class RestoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    backupId = serializers.UUIDField(source="backup_id")
    siteId = serializers.UUIDField(source="site.pk", help_text="The site restored into.")
    sourceSiteId = serializers.UUIDField(source="backup.site_id", help_text="The backup's site.")
    state = serializers.ChoiceField(choices=State.choices)
    phase = serializers.CharField(help_text="What a running restore does (empty otherwise).")
    reason = serializers.CharField()
    safetyBackupId = serializers.UUIDField(
        source="safety_backup_id", allow_null=True, help_text="The backup taken before restoring."
    )
    created = IsoDateTimeField(source="created_at")
    startedAt = IsoDateTimeField(source="started_at", allow_null=True)
    finishedAt = IsoDateTimeField(source="finished_at", allow_null=True)


class ScheduleSerializer(serializers.Serializer):
    frequency = serializers.ChoiceField(
        choices=[("off", "Off"), ("daily", "Daily"), ("weekly", "Weekly")]
    )
    hour = serializers.IntegerField(min_value=0, max_value=23, default=3, help_text="UTC.")
    weekday = serializers.IntegerField(
        min_value=0, max_value=6, default=0, help_text="Weekly: 0 Monday .. 6 Sunday."
    )
    keepLast = serializers.IntegerField(min_value=1, max_value=1000, default=7, source="keep_last")
    keepDaily = serializers.IntegerField(
        min_value=0, max_value=1000, default=7, source="keep_daily"
    )
    keepWeekly = serializers.IntegerField(
        min_value=0, max_value=1000, default=4, source="keep_weekly"
    )
    keepMonthly = serializers.IntegerField(
        min_value=0,
        max_value=1000,
        default=6,
        source="keep_monthly",
        help_text="Retention rules (0 turns one off); the plan's retention caps them.",
    )
    nextRunAt = IsoDateTimeField(read_only=True, allow_null=True)


class RestoreRequestSerializer(serializers.Serializer):
    """Optional: where to restore (default: the backup's own site)."""

    newSiteName = serializers.CharField(
        required=False, allow_blank=True, max_length=100, source="new_site_name"
    )
    targetSiteId = serializers.UUIDField(required=False, allow_null=True, source="target_id")
