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
    startedAt = IsoDateTimeField(source="started_at", allow_null=True)
    finishedAt = IsoDateTimeField(source="finished_at", allow_null=True)
    duration = serializers.FloatField(allow_null=True, help_text="Seconds.")


BackupPageSerializer = paginated("BackupPageSerializer", "backups", BackupSerializer)


class RestoreSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    backupId = serializers.UUIDField(source="backup_id")
    siteId = serializers.UUIDField(source="backup.site_id")
    state = serializers.ChoiceField(choices=State.choices)
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
    nextRunAt = IsoDateTimeField(read_only=True, allow_null=True)
