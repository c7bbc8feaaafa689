"""The visual editor over the REST API (``/api/editor``): the Alt Production Hosting client
fetches templates and editing sessions here, and publishing answers the deployment.

Pages are found among the caller's teams; another team's page or site answers 404. Reading
needs membership, changing needs ``site.manage`` (teams.permissions): viewers read only.
"""

from __future__ import annotations

import json

from django.core.exceptions import TooManyFilesSent
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError
from controlpanel.api.pagination import PagePagination
from controlpanel.api.schema import error
from controlpanel.api.throttling import DeploymentCreateThrottle, GeneralRateThrottle
from controlpanel.api.views import validated
from editor import selectors, services
from editor.api import serializers
from editor.models import Page, Revision, Template
from hosting import selectors as site_selectors
from hosting.api.serializers import SiteDeploymentSerializer
from hosting.files.errors import FileError
from hosting.models import Site
from teams.permissions import SITE_MANAGE, authorize_request

TAGS = ["editor"]
PAGE_NOT_FOUND = error("PAGE_NOT_FOUND: no such page of yours.")
SITE_NOT_FOUND = error("SITE_NOT_FOUND: no such site of yours.")
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("limit", int, description="Items per page."),
]


def site_for(request, pk) -> Site:
    try:
        site = site_selectors.site_get(user=request.user, pk=pk)
    except Site.DoesNotExist as exc:
        raise ApiError(404, "SITE_NOT_FOUND", "No site with that id.") from exc
    authorize_request(request, site, SITE_MANAGE)
    return site


def page_for(request, pk) -> Page:
    try:
        page = selectors.page_get(user=request.user, pk=pk)
    except Page.DoesNotExist as exc:
        raise ApiError(404, "PAGE_NOT_FOUND", "No page with that id.") from exc
    authorize_request(request, page, SITE_MANAGE)
    return page


class TemplateListView(APIView):
    """``GET /api/editor/templates``: the starters a site can begin from."""

    @extend_schema(
        operation_id="editor_templates_list",
        responses={200: serializers.TemplateListSerializer},
        tags=TAGS,
    )
    def get(self, request):
        templates = selectors.template_list()
        return Response({"templates": serializers.TemplateSerializer(templates, many=True).data})


class TemplateDetailView(APIView):
    """``GET /api/editor/templates/<slug>``: a starter with each page's document."""

    @extend_schema(
        responses={
            200: serializers.TemplateDetailSerializer,
            404: error("TEMPLATE_NOT_FOUND: no such template."),
        },
        tags=TAGS,
    )
    def get(self, request, slug):
        try:
            template = selectors.template_get(slug=slug)
        except Template.DoesNotExist as exc:
            raise ApiError(404, "TEMPLATE_NOT_FOUND", "No template with that name.") from exc
        return Response(serializers.TemplateDetailSerializer(template).data)


class PageListView(APIView):
    """``GET/POST /api/editor/sites/<id>/pages``: a site's pages; add one (empty, with a
    document) or every page of a template."""

    @extend_schema(
        operation_id="editor_pages_list",
        parameters=PAGE_PARAMETERS,
        responses={200: serializers.PagePageSerializer, 404: SITE_NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request, pk):
        site = site_for(request, pk)
        paginator = PagePagination()
        paginator.max_limit = 200
        items = paginator.paginate_queryset(selectors.page_list(site=site), request, view=self)
        paginator.results_key = "pages"
        return paginator.get_paginated_response(serializers.PageSerializer(items, many=True).data)

    @extend_schema(
        operation_id="editor_pages_create",
        request=serializers.PageCreateSerializer,
        responses={201: serializers.PageCreatedSerializer, 404: SITE_NOT_FOUND},
        tags=TAGS,
    )
    def post(self, request, pk):
        site = site_for(request, pk)
        data = validated(serializers.PageCreateSerializer, request)
        if data["template"]:
            try:
                template = selectors.template_get(slug=data["template"])
            except Template.DoesNotExist as exc:
                raise ApiError(
                    422,
                    "VALIDATION_ERROR",
                    "No template with that name.",
                    {"template": ["No template with that name."]},
                ) from exc
            pages = services.pages_from_template(site=site, template=template, author=request.user)
        else:
            if not data["title"]:
                raise ApiError(
                    422,
                    "VALIDATION_ERROR",
                    "Give the page a title.",
                    {"title": ["Give the page a title."]},
                )
            pages = [
                services.page_create(
                    site=site,
                    title=data["title"],
                    slug=data["slug"],
                    description=data["description"],
                    document=data.get("document"),
                    author=request.user,
                )
            ]
        return Response(
            {"pages": serializers.PageSerializer(pages, many=True).data},
            status=status.HTTP_201_CREATED,
        )


class PageDetailView(APIView):
    """``GET/PATCH/DELETE /api/editor/pages/<id>``: rename, move, describe, make home, delete."""

    @extend_schema(responses={200: serializers.PageSerializer, 404: PAGE_NOT_FOUND}, tags=TAGS)
    def get(self, request, pk):
        return Response(serializers.PageSerializer(page_for(request, pk)).data)

    @extend_schema(
        request=serializers.PageUpdateSerializer,
        responses={200: serializers.PageSerializer, 404: PAGE_NOT_FOUND},
        tags=TAGS,
    )
    def patch(self, request, pk):
        page = page_for(request, pk)
        data = validated(serializers.PageUpdateSerializer, request)
        services.page_update(
            page=page,
            title=data.get("title"),
            slug=data.get("slug"),
            description=data.get("description"),
            social_image=data.get("social_image"),
        )
        if data.get("is_home"):
            services.page_set_home(page=page)
        return Response(serializers.PageSerializer(page_for(request, pk)).data)

    @extend_schema(responses={204: None, 404: PAGE_NOT_FOUND}, tags=TAGS)
    def delete(self, request, pk):
        services.page_delete(page=page_for(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PageDuplicateView(APIView):
    """``POST /api/editor/pages/<id>/duplicate``: a copy under a free address."""

    @extend_schema(
        request=None, responses={201: serializers.PageSerializer, 404: PAGE_NOT_FOUND}, tags=TAGS
    )
    def post(self, request, pk):
        copy = services.page_duplicate(page=page_for(request, pk), author=request.user)
        return Response(serializers.PageSerializer(copy).data, status=status.HTTP_201_CREATED)


class DocumentView(APIView):
    """``GET/PUT /api/editor/pages/<id>/document``: the editing session's document.

    PUT stores a new revision when ``baseRevision`` is still the latest; otherwise 409 CONFLICT
    with the current revision in ``details`` (reload it, or PUT again with ``baseRevision:
    null`` to overwrite)."""

    @extend_schema(responses={200: serializers.DocumentSerializer, 404: PAGE_NOT_FOUND}, tags=TAGS)
    def get(self, request, pk):
        page = page_for(request, pk)
        return Response(
            serializers.DocumentSerializer(
                {"page": page, "revision": page.revision, "document": json.loads(page.document)}
            ).data
        )

    @extend_schema(
        request=serializers.DocumentSaveSerializer,
        responses={
            200: serializers.DocumentSavedSerializer,
            404: PAGE_NOT_FOUND,
            409: error("CONFLICT: the page was saved elsewhere since baseRevision."),
        },
        tags=TAGS,
    )
    def put(self, request, pk):
        page = page_for(request, pk)
        data = validated(serializers.DocumentSaveSerializer, request)
        try:
            result = services.document_save(
                page=page,
                document=data["document"],
                base_revision=data["baseRevision"],
                author=request.user,
            )
        except services.RevisionConflict as exc:
            raise ApiError(
                409,
                "CONFLICT",
                str(exc),
                {"currentRevision": exc.page.revision, "savedAt": exc.page.updated_at.isoformat()},
            ) from exc
        return Response(
            serializers.DocumentSavedSerializer(
                {
                    "revision": result.revision,
                    "changed": result.changed,
                    "savedAt": result.page.updated_at or timezone.now(),
                }
            ).data
        )


class RevisionListView(APIView):
    """``GET /api/editor/pages/<id>/revisions``: every saved revision, newest first."""

    @extend_schema(
        operation_id="editor_revisions_list",
        parameters=PAGE_PARAMETERS,
        responses={200: serializers.RevisionPageSerializer, 404: PAGE_NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request, pk):
        page = page_for(request, pk)
        paginator = PagePagination()
        items = paginator.paginate_queryset(selectors.revision_list(page=page), request, view=self)
        paginator.results_key = "revisions"
        return paginator.get_paginated_response(
            serializers.RevisionSerializer(items, many=True).data
        )


def _revision(page, number) -> Revision:
    try:
        return selectors.revision_get(page=page, number=number)
    except Revision.DoesNotExist as exc:
        raise ApiError(404, "REVISION_NOT_FOUND", "The page has no such revision.") from exc


class RevisionDetailView(APIView):
    """``GET /api/editor/pages/<id>/revisions/<n>``: one revision with its document."""

    @extend_schema(
        operation_id="editor_revisions_retrieve",
        responses={
            200: serializers.RevisionDetailSerializer,
            404: error("PAGE_NOT_FOUND or REVISION_NOT_FOUND."),
        },
        tags=TAGS,
    )
    def get(self, request, pk, number):
        revision = _revision(page_for(request, pk), number)
        data = serializers.RevisionSerializer(revision).data
        data["document"] = json.loads(revision.document)
        return Response(data)


class RevisionRestoreView(APIView):
    """``POST /api/editor/pages/<id>/revisions/<n>/restore``: that document becomes the
    current one, as a new revision (nothing is lost)."""

    @extend_schema(
        request=None,
        responses={
            200: serializers.DocumentSavedSerializer,
            404: error("PAGE_NOT_FOUND or REVISION_NOT_FOUND."),
        },
        tags=TAGS,
    )
    def post(self, request, pk, number):
        page = page_for(request, pk)
        _revision(page, number)
        result = services.revision_restore(page=page, number=number, author=request.user)
        return Response(
            serializers.DocumentSavedSerializer(
                {"revision": result.revision, "changed": True, "savedAt": result.page.updated_at}
            ).data
        )


class PreviewView(APIView):
    """``GET /api/editor/pages/<id>/preview``: the page rendered as publishing would."""

    @extend_schema(
        responses={200: serializers.PagePreviewSerializer, 404: PAGE_NOT_FOUND}, tags=TAGS
    )
    def get(self, request, pk):
        page = page_for(request, pk)
        return Response({"html": selectors.page_preview_html(page=page), "revision": page.revision})


class PublishView(APIView):
    """``POST /api/editor/sites/<id>/publish``: render every page and publish them as a live
    deployment (source "editor"); answers the deployment."""

    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        request=None,
        responses={
            201: SiteDeploymentSerializer,
            404: SITE_NOT_FOUND,
            413: error("QUOTA_EXCEEDED: the site's storage is full."),
            422: error("VALIDATION_ERROR: the site has no editor pages."),
        },
        tags=TAGS,
    )
    def post(self, request, pk):
        site = site_for(request, pk)
        try:
            deployment = services.site_publish(site=site, author=request.user)
        except FileError as exc:
            raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
        site.refresh_from_db()
        return Response(
            SiteDeploymentSerializer(deployment, context={"site": site}).data,
            status=status.HTTP_201_CREATED,
        )


class AssetsView(APIView):
    """``GET/POST /api/editor/sites/<id>/assets``: the images pages of the site use; POST one
    image (multipart ``file``) into the site's ``assets/images/`` (quota and type checked)."""

    @extend_schema(
        operation_id="editor_assets_list",
        responses={200: serializers.AssetListSerializer, 404: SITE_NOT_FOUND},
        tags=TAGS,
    )
    def get(self, request, pk):
        site = site_for(request, pk)
        return Response({"data": selectors.asset_list(site=site)})

    @extend_schema(
        operation_id="editor_assets_upload",
        request={"multipart/form-data": serializers.AssetUploadSerializer},
        responses={
            201: serializers.AssetListSerializer,
            404: SITE_NOT_FOUND,
            413: error("PAYLOAD_TOO_LARGE or QUOTA_EXCEEDED: the image or the site is full."),
            422: error("VALIDATION_ERROR: not an image."),
        },
        tags=TAGS,
    )
    def post(self, request, pk):
        site = site_for(request, pk)
        try:
            files = request.FILES.getlist("file")
        except TooManyFilesSent as exc:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", "Send one image at a time.") from exc
        except FileError as exc:  # the temporary folder's disk is full: 507
            raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
        if len(files) != 1:
            raise ApiError(
                422,
                "VALIDATION_ERROR",
                "Send one image as the multipart 'file' field.",
                {"file": ["Send one image."]},
            )
        upload = files[0]
        try:
            path = services.asset_upload(
                site=site, name=upload.name, stream=upload, size=upload.size
            )
        except FileError as exc:
            raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
        asset = next(a for a in selectors.asset_list(site=site) if a["path"] == path)
        return Response({"data": [asset]}, status=status.HTTP_201_CREATED)
