"""The editor's API shapes (``/api/editor``), in the Alt Production Hosting client's camelCase."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controlpanel.api.schema import listing, paginated


class TemplatePageSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True, default="")


class TemplateSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    builtin = serializers.BooleanField()
    pages = serializers.SerializerMethodField()

    @extend_schema_field(TemplatePageSerializer(many=True))
    def get_pages(self, template) -> list[dict]:
        return [
            {
                "slug": p.get("slug", ""),
                "title": p.get("title", ""),
                "description": p.get("description", ""),
            }
            for p in template.pages
        ]


class TemplateDocumentPageSerializer(TemplatePageSerializer):
    document = serializers.JSONField(help_text="GrapesJS project data of the page.")


class TemplateDetailSerializer(TemplateSerializer):
    pages = TemplateDocumentPageSerializer(many=True)


TemplateListSerializer = listing("EditorTemplateList", "templates", TemplateSerializer)


class PageSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    siteId = serializers.UUIDField(source="site_id")
    slug = serializers.CharField()
    path = serializers.CharField(help_text="Where the page is published: '/' or '/<slug>/'.")
    title = serializers.CharField()
    description = serializers.CharField()
    socialImage = serializers.CharField(source="social_image")
    isHome = serializers.BooleanField(source="is_home")
    revision = serializers.IntegerField(help_text="The number of the latest saved revision.")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


PagePageSerializer = paginated("EditorPagePage", "pages", PageSerializer)


class PageCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, required=False, default="")
    slug = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    template = serializers.SlugField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Start from this template: all its pages are added to the site.",
    )
    document = serializers.JSONField(required=False, help_text="GrapesJS project data.")


class PageCreatedSerializer(serializers.Serializer):
    pages = PageSerializer(many=True)


class PageUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, required=False)
    slug = serializers.CharField(max_length=60, required=False)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    socialImage = serializers.CharField(
        source="social_image", max_length=500, required=False, allow_blank=True
    )
    isHome = serializers.BooleanField(source="is_home", required=False)


class DocumentSerializer(serializers.Serializer):
    pageId = serializers.UUIDField(source="page.pk")
    revision = serializers.IntegerField()
    document = serializers.JSONField(help_text="GrapesJS project data.")
    updatedAt = serializers.DateTimeField(source="page.updated_at")


class DocumentSaveSerializer(serializers.Serializer):
    document = serializers.JSONField(help_text="GrapesJS project data (editor.getProjectData()).")
    baseRevision = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        help_text="The revision this document was loaded at; null overwrites what is stored.",
    )


class DocumentSavedSerializer(serializers.Serializer):
    revision = serializers.IntegerField()
    changed = serializers.BooleanField(help_text="False when the document was already stored.")
    savedAt = serializers.DateTimeField()


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    reason = serializers.CharField()
    restoredFrom = serializers.IntegerField(source="restored_from", allow_null=True)
    size = serializers.IntegerField()
    author = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")

    def get_author(self, revision) -> str | None:
        author = revision.author
        return (author.get_full_name() or author.email) if author else None


RevisionPageSerializer = paginated("EditorRevisionPage", "revisions", RevisionSerializer)


class RevisionDetailSerializer(RevisionSerializer):
    document = serializers.JSONField()


class PagePreviewSerializer(serializers.Serializer):
    html = serializers.CharField(help_text="The page as it would be published, CSS inline.")
    revision = serializers.IntegerField()


class AssetSerializer(serializers.Serializer):
    src = serializers.CharField(help_text="Where the editor shows it (team members only).")
    name = serializers.CharField()
    path = serializers.CharField(help_text="Its path in the site's files; published as /<path>.")
    size = serializers.IntegerField()


class AssetListSerializer(serializers.Serializer):
    """The GrapesJS asset manager's shape: ``{"data": [asset, ...]}``."""

    data = AssetSerializer(many=True)


class AssetUploadSerializer(serializers.Serializer):
    """multipart/form-data: one image in the ``file`` field."""

    file = serializers.FileField()
