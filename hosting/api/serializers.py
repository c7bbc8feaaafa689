"""JSON shapes of sites (the Cloud Haven client's Site object), files and deployments. Sizes are
bytes."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from hosting.files.backends import Entry
from hosting.models import Site


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


class SiteSerializer(serializers.BaseSerializer):
    """The Cloud Haven client's Site: id, domain, plan, status, createdAt, storage, bandwidth
    (bytes), and extras.

    ``plan`` comes from the serializer context (one look-up per request, not per site).
    """

    def to_representation(self, site: Site) -> dict:
        return {
            "id": str(site.pk),
            "domain": site.hostname,
            "plan": self.context.get("plan", "free"),
            "status": site.status,
            "createdAt": _iso(site.created_at),
            "storage": {
                "used": int(getattr(site, "storage_in_use", site.storage_used) or 0),
                "total": site.storage_limit,
            },
            "bandwidth": {
                "used": int(getattr(site, "bandwidth_used", 0) or 0),
                "total": site.bandwidth_limit,
            },
            "name": site.name,
            "slug": site.slug,
            "url": site.url,
            "kind": site.kind,
            "liveDeploymentId": str(site.live_deployment_id) if site.live_deployment_id else None,
            "lastDeployedAt": _iso(getattr(site, "last_deployed_at", None)),
            "liveDeployedAt": _iso(getattr(site, "live_deployed_at", None)),
            "builtFromGit": bool(getattr(site, "built_from_git", False)),
            "updatedAt": _iso(site.updated_at),
        }


class SiteCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    slug = serializers.CharField(max_length=63, required=False, allow_blank=True)
    domain = serializers.CharField(
        max_length=253,
        required=False,
        allow_blank=True,
        help_text="The address: 'my-blog' or 'my-blog.<SITES_DOMAIN>' (same as slug).",
    )
    kind = serializers.ChoiceField(choices=[Site.Kind.STATIC], required=False)

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
        return attrs


class SiteUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    status = serializers.ChoiceField(
        choices=[Site.Status.ONLINE, Site.Status.OFFLINE],
        required=False,
        help_text="'offline' stops serving the site (503); 'online' serves it again.",
    )


def entry_json(entry: Entry, content_type: str | None = None) -> dict:
    from deployments.blobs import content_type_for

    data = {
        "name": entry.name,
        "path": entry.path,
        "type": "folder" if entry.is_dir else "file",
        "size": entry.size,
        "modifiedAt": _iso(entry.modified),
    }
    if not entry.is_dir:
        data["contentType"] = content_type or content_type_for(entry.path)
    return data


def deployment_json(deployment, site: Site | None = None) -> dict:
    site = site or deployment.site
    manifest = deployment.manifest
    author = deployment.author
    data = {
        "id": str(deployment.pk),
        "siteId": str(deployment.site_id),
        "status": deployment.status,
        "source": deployment.source,
        "url": site.url,
        "isLive": site.live_deployment_id == deployment.pk,
        "files": manifest.file_count if manifest else 0,
        "size": manifest.total_size if manifest else 0,
        "author": {"id": str(author.pk), "name": author.name, "email": author.email}
        if author
        else None,
        "restoredFrom": str(deployment.restored_from_id) if deployment.restored_from_id else None,
        "error": deployment.error,
        "createdAt": _iso(deployment.created_at),
        "startedAt": _iso(deployment.started_at),
        "finishedAt": _iso(deployment.finished_at),
    }
    stats = getattr(deployment, "publish_stats", None)
    if stats is not None:
        data["stats"] = {
            "files": stats.files,
            "bytesTotal": stats.bytes_total,
            "blobsWritten": stats.blobs_written,
            "bytesWritten": stats.bytes_written,
        }
    return data
