"""JSON shape of a WordPress site's details (camelCase, sizes in bytes)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hosting.models import Site
from wordpress.models import WordPressSite


class WordPressStorageSerializer(serializers.Serializer):
    files = serializers.IntegerField(
        help_text="Bytes of the site's own files (wp-content, configuration, logs); core is shared."
    )
    database = serializers.IntegerField(allow_null=True, help_text="Bytes in MariaDB.")


class WordPressLimitsSerializer(serializers.Serializer):
    memoryMb = serializers.IntegerField()
    uploadMb = serializers.IntegerField()
    maxExecutionSeconds = serializers.IntegerField()


class WordPressUpdateSerializer(serializers.Serializer):
    state = serializers.CharField(
        source="update_state", help_text="Of the last core update: queued, running, done, failed."
    )
    error = serializers.CharField(source="update_error", help_text="Why it failed.")
    startedAt = serializers.DateTimeField(source="update_started_at", allow_null=True)
    finishedAt = serializers.DateTimeField(source="update_finished_at", allow_null=True)


class WordPressSerializer(serializers.Serializer):
    siteId = serializers.UUIDField(source="job.site_id")
    status = serializers.ChoiceField(choices=Site.Status.choices, source="job.site.status")
    provisioning = serializers.ChoiceField(
        choices=WordPressSite.State.choices,
        source="job.state",
        help_text="The provisioning job: queued, running, done or failed.",
    )
    error = serializers.CharField(source="job.error", help_text="Why provisioning failed.")
    title = serializers.CharField(source="job.title")
    adminUser = serializers.CharField(source="job.admin_user")
    adminEmail = serializers.CharField(source="job.admin_email")
    adminUrl = serializers.SerializerMethodField()
    version = serializers.CharField(source="job.version", help_text="WordPress installed.")
    coreVersion = serializers.CharField(source="core_version", help_text="Of the server's package.")
    phpVersion = serializers.CharField(
        source="php_version", help_text="PHP of the site's pool (php-fpm); empty when missing."
    )
    updateAvailable = serializers.BooleanField(source="update_available")
    poolState = serializers.CharField(
        source="pool_state", help_text="The PHP pool's process: running, stopped, ... or missing."
    )
    storage = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    update = WordPressUpdateSerializer(source="job", help_text="The last core update, if any.")
    debug = serializers.BooleanField(source="job.debug", help_text="WP_DEBUG: errors shown.")
    maintenance = serializers.BooleanField(
        source="job.maintenance", help_text="Visitors get a 503 maintenance page."
    )

    def get_adminUrl(self, detail) -> str:
        return f"{detail.job.site.url}/wp-admin/"

    @extend_schema_field(WordPressStorageSerializer)
    def get_storage(self, detail) -> dict:
        return {"files": detail.files_bytes, "database": detail.database_bytes}

    @extend_schema_field(WordPressLimitsSerializer)
    def get_limits(self, detail) -> dict:
        job = detail.job
        return {
            "memoryMb": job.memory_limit_mb,
            "uploadMb": job.upload_limit_mb,
            "maxExecutionSeconds": job.max_execution_seconds,
        }


class LoginLinkSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="Open it within a minute; it works once.")
    expiresAt = serializers.DateTimeField()


class WordPressSettingsSerializer(serializers.Serializer):
    """What ``PATCH /api/sites/<id>/wordpress`` may change (each optional)."""

    memoryMb = serializers.IntegerField(source="memory_limit_mb", required=False)
    uploadMb = serializers.IntegerField(source="upload_limit_mb", required=False)
    maxExecutionSeconds = serializers.IntegerField(source="max_execution_seconds", required=False)
    debug = serializers.BooleanField(required=False)
    maintenance = serializers.BooleanField(required=False)


class AdminPasswordSerializer(serializers.Serializer):
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, help_text="At least 10 characters."
    )


class AdminPasswordSetSerializer(serializers.Serializer):
    adminUser = serializers.CharField(help_text="The administrator whose password changed.")
