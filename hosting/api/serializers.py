"""JSON shapes of sites (the Cloud Haven client's Site object), files and deployments. Sizes are
bytes."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controlpanel.api.rendering import drf_time, representation
from controlpanel.api.schema import paginated
from deployments.blobs import content_type_for
from deployments.models import Deployment
from hosting.hostnames import deployment_hostname
from hosting.models import Site


class SiteCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.CharField(max_length=63, required=False, allow_blank=True)
    domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        help_text="The address: 'my-blog' or 'my-blog.<SITES_DOMAIN>' (same as slug).",
    )
    kind = serializers.ChoiceField(
        choices=[Site.Kind.STATIC, Site.Kind.WORDPRESS],
        required=False,
        help_text="'wordpress' provisions WordPress (answers status 'provisioning' at once).",
    )
    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="WordPress: the site title."
    )
    adminUser = serializers.CharField(
        source="admin_user", max_length=60, required=False, help_text="WordPress: admin user."
    )
    adminEmail = serializers.EmailField(
        source="admin_email", required=False, help_text="WordPress: admin email (default: yours)."
    )
    adminPassword = serializers.CharField(
        source="admin_password",
        min_length=10,
        max_length=200,
        required=False,
        write_only=True,
        help_text="WordPress: the admin's password (at least 10 characters).",
    )

    def validate(self, attrs):
        slug = (attrs.get("slug") or "").strip().lower()
        domain = (attrs.get("domain") or "").strip().lower().rstrip(".")
        if domain and not slug:
            suffix = "." + settings.SITES_DOMAIN
            slug = domain[: -len(suffix)] if domain.endswith(suffix) else domain
            if "." in slug:
                raise serializers.ValidationError(
                    {"domain": [f"Sites live at <name>.{settings.SITES_DOMAIN}; give the name."]}
                )
        attrs["slug"] = slug
        if attrs.get("kind") == Site.Kind.WORDPRESS:
            needed = (("adminUser", "admin_user"), ("adminPassword", "admin_password"))
            missing = {
                name: ["Required for a WordPress site."]
                for name, source in needed
                if not attrs.get(source)
            }
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class SiteUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    status = serializers.ChoiceField(
        choices=[Site.Status.ONLINE, Site.Status.OFFLINE],
        required=False,
        help_text="'offline' stops serving the site (503); 'online' serves it again.",
    )
    previewProtection = serializers.ChoiceField(
        source="preview_protection",
        choices=Site.PreviewProtection.choices,
        required=False,
        help_text="Who may open the preview and deployment addresses: 'off' (anyone), "
        "'team' (the team's members, signed in) or 'password'.",
    )
    previewPassword = serializers.CharField(
        source="preview_password",
        required=False,
        allow_blank=True,
        write_only=True,
        max_length=200,
        help_text="With 'password': the password (at least 8 characters; omitted keeps it).",
    )


class FileMoveSerializer(serializers.Serializer):
    """PATCH on a file or folder: ``name`` renames it in place, ``to`` moves it to a folder."""

    path = serializers.CharField(required=False, allow_blank=True, help_text="When not in the URL.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    to = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=4096)


class FolderCreateSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=4096, help_text="The new folder, e.g. 'assets/img'.")


class UploadSerializer(serializers.Serializer):
    """multipart/form-data: one or more ``file`` fields, into the folder ``path``."""

    file = serializers.ListField(child=serializers.FileField())
    path = serializers.CharField(required=False, allow_blank=True)
    extract = serializers.BooleanField(required=False, help_text="Unpack .zip files.")
    paths = serializers.CharField(
        required=False, help_text="A JSON list giving each file's relative path (folder uploads)."
    )


# --- answers ----------------------------------------------------------------------------------


class UsageSerializer(serializers.Serializer):
    used = serializers.IntegerField(help_text="Bytes.")
    total = serializers.IntegerField(help_text="Bytes.")


class SiteSerializer(serializers.Serializer):
    """The Cloud Haven client's Site: id, domain, plan, status, createdAt, storage, bandwidth
    (bytes), and extras. ``plan`` comes from the context (one look-up per request)."""

    id = serializers.UUIDField(source="pk")
    domain = serializers.CharField(source="hostname")
    plan = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Site.Status.choices)
    createdAt = serializers.DateTimeField(source="created_at")
    storage = serializers.SerializerMethodField()
    bandwidth = serializers.SerializerMethodField()
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField()
    kind = serializers.ChoiceField(choices=Site.Kind.choices)
    liveDeploymentId = serializers.UUIDField(source="live_deployment_id", allow_null=True)
    lastDeployedAt = serializers.DateTimeField(source="last_deployed_at", allow_null=True)
    liveDeployedAt = serializers.DateTimeField(source="live_deployed_at", allow_null=True)
    builtFromGit = serializers.SerializerMethodField()
    previewProtection = serializers.ChoiceField(
        source="preview_protection", choices=Site.PreviewProtection.choices
    )
    updatedAt = serializers.DateTimeField(source="updated_at")

    def get_builtFromGit(self, site) -> bool:
        return bool(getattr(site, "built_from_git", False))

    def get_plan(self, site) -> str:
        return self.context.get("plan", "free")

    @extend_schema_field(UsageSerializer)
    def get_storage(self, site) -> dict:
        used = int(getattr(site, "storage_in_use", site.storage_used) or 0)
        return {"used": used, "total": site.storage_limit}

    @extend_schema_field(UsageSerializer)
    def get_bandwidth(self, site) -> dict:
        used = int(getattr(site, "bandwidth_used", 0) or 0)
        return {"used": used, "total": site.bandwidth_limit}

    def to_representation(self, site):
        # The values the declared fields give, read directly: DRF's per-field lookups and
        # conversions were most of a sites page's CPU (~1.5 ms for ten sites).
        live = site.live_deployment_id
        values = {
            "id": str(site.pk),
            "domain": site.hostname,
            "plan": self.get_plan(site),
            "status": _choice(Site.Status, site.status),
            "createdAt": drf_time(self, site.created_at),
            "storage": self.get_storage(site),
            "bandwidth": self.get_bandwidth(site),
            "name": str(site.name),
            "slug": str(site.slug),
            "url": site.url,
            "kind": _choice(Site.Kind, site.kind),
            "liveDeploymentId": None if live is None else str(live),
            "lastDeployedAt": drf_time(self, getattr(site, "last_deployed_at", None)),
            "liveDeployedAt": drf_time(self, getattr(site, "live_deployed_at", None)),
            "builtFromGit": self.get_builtFromGit(site),
            "previewProtection": _choice(Site.PreviewProtection, site.preview_protection),
            "updatedAt": drf_time(self, site.updated_at),
        }
        return representation(self, values, site)


def _choice(choices, value):
    """What DRF's ChoiceField answers for a stored value."""
    if value in ("", None):
        return value
    return choices(value).value if value in choices.values else value


SitePageSerializer = paginated("SitePageSerializer", "sites", SiteSerializer)
SpacePageSerializer = paginated("SpacePageSerializer", "spaces", SiteSerializer)


class FileEntrySerializer(serializers.Serializer):
    """A file or folder of the working tree (``hosting.files.backends.Entry``)."""

    name = serializers.CharField()
    path = serializers.CharField()
    type = serializers.SerializerMethodField()
    size = serializers.IntegerField(help_text="Bytes; 0 for folders.")
    modifiedAt = serializers.DateTimeField(source="modified", allow_null=True)
    contentType = serializers.CharField(required=False, help_text="Files only.")

    @extend_schema_field({"type": "string", "enum": ["file", "folder"]})
    def get_type(self, entry) -> str:
        return "folder" if entry.is_dir else "file"

    def to_representation(self, entry):
        data = super().to_representation(entry)
        if not entry.is_dir:
            data["contentType"] = content_type_for(entry.path)
        return data


class FileListSerializer(
    paginated("FileEntryPageSerializer", "files", FileEntrySerializer)  # type: ignore[misc]
):
    """One folder's entries, folders first."""

    path = serializers.CharField(help_text="The folder listed ('' is the site's root).")


class UploadedFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    path = serializers.CharField()
    type = serializers.ChoiceField(choices=["file"])
    size = serializers.IntegerField()


class UploadResultSerializer(serializers.Serializer):
    """Serializes ``{"path", "result": UploadResult, "site"}``."""

    path = serializers.CharField()
    files = serializers.SerializerMethodField()
    folders = serializers.ListField(child=serializers.CharField(), source="result.folders")
    bytes = serializers.IntegerField(source="result.bytes")
    replaced = serializers.IntegerField(source="result.replaced")
    storage = serializers.SerializerMethodField()

    @extend_schema_field(UploadedFileSerializer(many=True))
    def get_files(self, upload) -> list[dict]:
        sizes = upload["result"].sizes
        return [
            {"name": p.rsplit("/")[-1], "path": p, "type": "file", "size": sizes[p]}
            for p in upload["result"].files
        ]

    @extend_schema_field(UsageSerializer)
    def get_storage(self, upload) -> dict:
        site = upload["site"]
        return {"used": site.storage_used, "total": site.storage_limit}


class PathSerializer(serializers.Serializer):
    path = serializers.CharField()


class FolderCreatedSerializer(PathSerializer):
    type = serializers.ChoiceField(choices=["folder"])


class DeletedSerializer(serializers.Serializer):
    path = serializers.CharField()
    files = serializers.IntegerField()
    bytes = serializers.IntegerField()


class DeleteResultSerializer(serializers.Serializer):
    """Serializes ``{"deleted": DeleteResult, "site": Site}``."""

    deleted = DeletedSerializer()
    storage = serializers.SerializerMethodField()

    @extend_schema_field(UsageSerializer)
    def get_storage(self, answer) -> dict:
        site = answer["site"]
        return {"used": site.storage_used, "total": site.storage_limit}


class AuthorSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    email = serializers.EmailField()


class PublishStatsSerializer(serializers.Serializer):
    files = serializers.IntegerField()
    bytesTotal = serializers.IntegerField(source="bytes_total")
    blobsWritten = serializers.IntegerField(source="blobs_written")
    bytesWritten = serializers.IntegerField(source="bytes_written")


class SiteDeploymentSerializer(serializers.Serializer):
    """A release of a site's files. ``stats`` (what publishing wrote) only right after it."""

    id = serializers.UUIDField(source="pk")
    siteId = serializers.UUIDField(source="site_id")
    status = serializers.ChoiceField(choices=Deployment.Status.choices)
    source = serializers.ChoiceField(choices=Deployment.Source.choices)
    url = serializers.SerializerMethodField()
    isLive = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    size = serializers.SerializerMethodField()
    author = AuthorSerializer(allow_null=True)
    restoredFrom = serializers.UUIDField(source="restored_from_id", allow_null=True)
    error = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)
    stats = PublishStatsSerializer(source="publish_stats", required=False)
    deploymentUrl = serializers.SerializerMethodField(
        help_text="This deployment's own address (<short id>--<slug>.<SITES_DOMAIN>), serving "
        "its files whatever is live; null until it succeeded."
    )

    def _site(self, deployment) -> Site:
        return self.context.get("site") or deployment.site

    def get_url(self, deployment) -> str:
        return self._site(deployment).url

    def get_deploymentUrl(self, deployment) -> str | None:
        if deployment.status != Deployment.Status.SUCCESS or deployment.manifest_id is None:
            return None
        site = self._site(deployment)
        return site.url_for(deployment_hostname(deployment.short_id, site.slug))

    def get_isLive(self, deployment) -> bool:
        return self._site(deployment).live_deployment_id == deployment.pk

    def get_files(self, deployment) -> int:
        return deployment.manifest.file_count if deployment.manifest else 0

    def get_size(self, deployment) -> int:
        return deployment.manifest.total_size if deployment.manifest else 0


SiteDeploymentPageSerializer = paginated(
    "SiteDeploymentPageSerializer", "deployments", SiteDeploymentSerializer
)


# --- folder deploys (only the files the server lacks) and previews ---------------------------


class FolderDeployCreateSerializer(serializers.Serializer):
    files = serializers.DictField(
        child=serializers.CharField(max_length=64),
        allow_empty=False,
        help_text="Every file of the folder: its path (relative, '/'-separated) -> the SHA-256 "
        "digest of its contents (64 hex digits).",
    )
    activate = serializers.BooleanField(
        required=False,
        default=True,
        help_text="false: publish as a draft, served only at its own address (promote it later).",
    )


class FolderDeploySerializer(serializers.Serializer):
    """Serializes ``deployments.uploads.UploadStarted``."""

    deployment = serializers.SerializerMethodField()
    required = serializers.ListField(
        child=serializers.CharField(),
        help_text="The digests to upload (PUT /api/deployments/<id>/blobs/<digest>), each once; "
        "empty when the server holds every file already.",
    )

    @extend_schema_field(SiteDeploymentSerializer)
    def get_deployment(self, started) -> dict:
        return SiteDeploymentSerializer(started.deployment, context=self.context).data


class BlobReceivedSerializer(serializers.Serializer):
    digest = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")


class BlobReceivedListSerializer(serializers.Serializer):
    received = BlobReceivedSerializer(many=True)


class BlobBatchSerializer(serializers.Serializer):
    """multipart/form-data: one file field per file, named by its SHA-256 digest."""

    digest = serializers.FileField(help_text="Any number of fields, each named by its digest.")


class PreviewSerializer(serializers.Serializer):
    """Serializes ``deployments.selectors.Preview``."""

    name = serializers.CharField(help_text="The label in <name>--<slug>.<SITES_DOMAIN>.")
    url = serializers.CharField()
    branch = serializers.CharField()
    status = serializers.CharField(source="latest.status", help_text="Of the newest build.")
    deploymentId = serializers.UUIDField(source="latest.pk", help_text="The newest build.")
    servingDeploymentId = serializers.UUIDField(
        source="serving.pk",
        allow_null=True,
        help_text="The newest successful build: what the address serves (null: nothing yet).",
    )
    updatedAt = serializers.DateTimeField(source="latest.created_at")


class PreviewListSerializer(serializers.Serializer):
    previews = PreviewSerializer(many=True)


class PreviewRemovedSerializer(serializers.Serializer):
    name = serializers.CharField()
    deployments = serializers.IntegerField(
        help_text="Deployments that were built as it; they stay, at their own addresses."
    )
