"""Sites, files and deployments over the REST API (Alt Production Hosting's spaces, Cloud Haven's
sites).

Every view is scoped to ``request.user``: another user's site answers 404 SITE_NOT_FOUND.
Sizes are bytes. The HTML pages call the same services.
"""

from __future__ import annotations

import math

from django.core.exceptions import TooManyFilesSent, ValidationError
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.limits import plan_of
from controlpanel.api.exceptions import ApiError
from controlpanel.api.pagination import PagePagination
from controlpanel.api.schema import error
from controlpanel.api.throttling import DeploymentCreateThrottle, GeneralRateThrottle
from controlpanel.api.views import validated
from deployments.models import Deployment
from deployments.services import deployment_rollback
from hosting import selectors, services
from hosting.api import serializers
from hosting.files import operations as ops
from hosting.files.errors import FileError, PathInvalid
from hosting.files.paths import clean_path
from hosting.files.requests import too_many_files, truthy, uploads_from
from hosting.files.uploads import files_upload
from hosting.models import Site
from teams.context import current_team
from teams.permissions import SITE_MANAGE, authorize, authorize_request
from wordpress.services import WordPressUnavailable, wordpress_site_create

PATH_PARAM = OpenApiParameter(
    "path", str, description="A file or folder inside the site, e.g. 'css/site.css'."
)
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("limit", int, description="Items per page."),
]
SITE_NOT_FOUND = error("SITE_NOT_FOUND: no such site of yours.")
FILE_ERRORS = {
    404: error("SITE_NOT_FOUND, or FILE_NOT_FOUND: no such site, file or folder."),
    409: error("PATH_CONFLICT: something already has that name."),
    413: error("QUOTA_EXCEEDED: the site's storage is full."),
    422: error("PATH_INVALID, ARCHIVE_INVALID or VALIDATION_ERROR: the path or input is refused."),
    507: error("STORAGE_FULL: the server's disk is full; nothing of the write was kept."),
}


def _file_error(exc: FileError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, exc.details)


class SiteMixin:
    def site(self, request, pk) -> Site:
        """A site of the caller's teams their role allows this request on (teams.permissions)."""
        try:
            site = selectors.site_get(user=request.user, pk=pk)
        except Site.DoesNotExist as exc:
            raise ApiError(404, "SITE_NOT_FOUND", "No site with that id.") from exc
        authorize_request(request, site, SITE_MANAGE)
        return site

    def site_json(self, request, site: Site) -> dict:
        context = {"plan": plan_of(site.team).key}
        return serializers.SiteSerializer(site, context=context).data


class SiteListView(SiteMixin, APIView):
    """``GET/POST /api/hosting/spaces`` and ``GET /api/sites``: the user's sites, paginated."""

    results_key = "sites"

    @extend_schema(
        operation_id="sites_list",
        parameters=[OpenApiParameter("search", str), *PAGE_PARAMETERS],
        responses={200: serializers.SitePageSerializer},
        tags=["sites"],
    )
    def get(self, request):
        paginator = PagePagination()
        search = request.query_params.get("search", "").strip()[:100]
        team = current_team(request)
        page = paginator.paginate_queryset(
            selectors.site_list(user=request.user, search=search, team=team), request, view=self
        )
        context = {"plan": plan_of(team).key if team else "free"}
        return paginator.get_paginated_response(
            serializers.SiteSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        operation_id="sites_create_post",
        request=serializers.SiteCreateSerializer,
        responses={
            201: serializers.SiteSerializer,
            409: error("WORDPRESS_UNAVAILABLE: this installation lacks MariaDB or php-fpm."),
        },
        tags=["sites"],
    )
    def post(self, request):
        team = current_team(request)
        authorize(request.user, SITE_MANAGE, team)
        data = validated(serializers.SiteCreateSerializer, request)
        if data.get("kind") == Site.Kind.WORDPRESS:
            try:
                site = wordpress_site_create(
                    team=team,
                    owner=request.user,
                    name=data["name"],
                    slug=data["slug"],
                    title=data.get("title", ""),
                    admin_user=data["admin_user"],
                    admin_email=data.get("admin_email") or request.user.email,
                    admin_password=data["admin_password"],
                )
            except WordPressUnavailable as exc:
                raise ApiError(409, "WORDPRESS_UNAVAILABLE", exc.messages[0]) from exc
            site = selectors.site_get(user=request.user, pk=site.pk)
            return Response(self.site_json(request, site), status=status.HTTP_201_CREATED)
        site = services.site_create(
            team=team,
            owner=request.user,
            name=data["name"],
            slug=data["slug"],
            kind=data.get("kind") or Site.Kind.STATIC,
        )
        site = selectors.site_get(user=request.user, pk=site.pk)
        return Response(self.site_json(request, site), status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        operation_id="hosting_spaces_list",
        responses={200: serializers.SpacePageSerializer},
    ),
    post=extend_schema(operation_id="hosting_spaces_create"),
)
class SpaceListView(SiteListView):
    """The Alt Production Hosting client's spelling: ``{"spaces": [...], "pagination": {...}}``."""

    results_key = "spaces"


@extend_schema_view(post=extend_schema(operation_id="sites_create"))
class SiteCreateView(SiteListView):
    """``POST /api/sites/create`` (the Cloud Haven client's spelling)."""

    http_method_names = ["post", "options"]


class SiteDetailView(SiteMixin, APIView):
    """``GET/PATCH/DELETE /api/hosting/spaces/<id>`` and ``/api/sites/<id>``."""

    @extend_schema(responses={200: serializers.SiteSerializer, 404: SITE_NOT_FOUND}, tags=["sites"])
    def get(self, request, pk):
        return Response(self.site_json(request, self.site(request, pk)))

    @extend_schema(
        request=serializers.SiteUpdateSerializer,
        responses={200: serializers.SiteSerializer, 404: SITE_NOT_FOUND},
        tags=["sites"],
    )
    def patch(self, request, pk):
        site = self.site(request, pk)
        data = validated(serializers.SiteUpdateSerializer, request)
        if "name" in data:
            services.site_rename(site=site, name=data["name"])
        if "status" in data:
            services.site_set_offline(site=site, offline=data["status"] == Site.Status.OFFLINE)
        if "preview_protection" in data or "preview_password" in data:
            services.site_preview_protection_set(
                site=site,
                protection=data.get("preview_protection", site.preview_protection),
                password=data.get("preview_password", ""),
            )
        return Response(self.site_json(request, self.site(request, pk)))

    @extend_schema(responses={204: None, 404: SITE_NOT_FOUND}, tags=["sites"])
    def delete(self, request, pk):
        services.site_delete(site=self.site(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FilePagination(PagePagination):
    default_limit = 100
    max_limit = 1000

    def paginate_list(self, items: list, request) -> list:
        self.limit = min(self._positive_int(request, "limit", self.default_limit), self.max_limit)
        self.page = self._positive_int(request, "page", 1)
        self.total = len(items)
        start = (self.page - 1) * self.limit
        return items[start : start + self.limit]

    def get_pagination_data(self) -> dict:
        data = super().get_pagination_data()
        data["totalPages"] = max(1, math.ceil(self.total / self.limit))
        return data


class FilesView(SiteMixin, APIView):
    """``GET/POST/PATCH/DELETE /api/hosting/spaces/<id>/files`` (``?path=`` or ``/files/<path>``).

    GET lists a folder (or sends a file's contents); POST uploads multipart ``file`` fields
    into the folder ``path`` (``extract=true`` unpacks .zip files; ``paths`` may give each file's
    relative path as a JSON list); PATCH renames (``name``) or moves (``to``); DELETE removes.
    """

    def _path(self, request, path: str | None) -> str:
        if path is not None:
            return path
        return request.query_params.get("path") or ""

    @extend_schema(
        parameters=[PATH_PARAM, *PAGE_PARAMETERS],
        responses={
            (200, "application/json"): serializers.FileListSerializer,
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **FILE_ERRORS,
        },
        description="A folder answers its entries (JSON); a file answers its contents.",
        tags=["files"],
    )
    def get(self, request, pk, path=None):
        site = self.site(request, pk)
        raw = self._path(request, path)
        try:
            target = clean_path(raw, allow_root=True)
            if target and ops.path_kind(site=site, path=target) == "file":
                stream, _size, ctype = ops.file_open(site=site, path=target)
                response = FileResponse(stream, as_attachment=True, filename=target.rsplit("/")[-1])
                response["Content-Type"] = ctype
                return response
            entries = ops.folder_list(site=site, folder=target)
        except FileError as exc:
            raise _file_error(exc) from exc
        paginator = FilePagination()
        page = paginator.paginate_list(entries, request)
        listing = {"path": target, "files": page, "pagination": paginator.get_pagination_data()}
        return Response(serializers.FileListSerializer(listing).data)

    @extend_schema(
        parameters=[PATH_PARAM],
        request={"multipart/form-data": serializers.UploadSerializer},
        responses={
            201: serializers.UploadResultSerializer,
            **FILE_ERRORS,
            413: error("PAYLOAD_TOO_LARGE or QUOTA_EXCEEDED: too much for one upload or the site."),
        },
        tags=["files"],
    )
    def post(self, request, pk, path=None):
        site = self.site(request, pk)
        try:
            try:
                files = request.FILES.getlist("file")
                form = request.data
            except TooManyFilesSent as exc:
                raise too_many_files() from exc
            folder = (
                path
                if path is not None
                else (request.query_params.get("path") or form.get("path") or "")
            )
            extract = truthy(request.query_params.get("extract") or form.get("extract"))
            if not files:
                raise PathInvalid("Send the files as multipart 'file' fields.")
            result = files_upload(
                site=site,
                folder=folder,
                uploads=uploads_from(files, form.get("paths")),
                extract=extract,
            )
        except FileError as exc:
            raise _file_error(exc) from exc
        upload = {"path": clean_path(folder, allow_root=True), "result": result, "site": site}
        return Response(
            serializers.UploadResultSerializer(upload).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[PATH_PARAM],
        request=serializers.FileMoveSerializer,
        responses={200: serializers.PathSerializer, **FILE_ERRORS},
        tags=["files"],
    )
    def patch(self, request, pk, path=None):
        site = self.site(request, pk)
        data = validated(serializers.FileMoveSerializer, request)
        raw = self._path(request, path) or data.get("path") or ""
        try:
            if data.get("name"):
                new_path = ops.path_rename(site=site, path=raw, new_name=data["name"])
            elif "to" in data:
                new_path = ops.path_move(site=site, path=raw, folder=data["to"] or "")
            else:
                raise PathInvalid("Send 'name' to rename or 'to' (a folder) to move.")
        except FileError as exc:
            raise _file_error(exc) from exc
        return Response(serializers.PathSerializer({"path": new_path}).data)

    @extend_schema(
        parameters=[PATH_PARAM],
        responses={200: serializers.DeleteResultSerializer, **FILE_ERRORS},
        tags=["files"],
    )
    def delete(self, request, pk, path=None):
        site = self.site(request, pk)
        try:
            result = ops.path_delete(site=site, path=self._path(request, path))
        except FileError as exc:
            raise _file_error(exc) from exc
        site.refresh_from_db(fields=["storage_used"])
        return Response(serializers.DeleteResultSerializer({"deleted": result, "site": site}).data)


@extend_schema_view(
    get=extend_schema(operation_id="hosting_spaces_file_retrieve"),
    post=extend_schema(operation_id="hosting_spaces_file_create"),
    patch=extend_schema(operation_id="hosting_spaces_file_partial_update"),
    delete=extend_schema(operation_id="hosting_spaces_file_destroy"),
)
class FilePathView(FilesView):
    """The same as FilesView with the path in the URL: ``/files/<path>``."""


class FolderCreateView(SiteMixin, APIView):
    """``POST /api/hosting/spaces/<id>/folders`` with ``{"path": "a/new/folder"}``."""

    @extend_schema(
        request=serializers.FolderCreateSerializer,
        responses={201: serializers.FolderCreatedSerializer, **FILE_ERRORS},
        tags=["files"],
    )
    def post(self, request, pk):
        site = self.site(request, pk)
        data = validated(serializers.FolderCreateSerializer, request)
        try:
            raw = clean_path(data["path"])
            parent, _, name = raw.rpartition("/")
            created = ops.folder_create(site=site, folder=parent, name=name)
        except FileError as exc:
            raise _file_error(exc) from exc
        answer = serializers.FolderCreatedSerializer({"path": created, "type": "folder"}).data
        return Response(answer, status=status.HTTP_201_CREATED)


class DeployView(SiteMixin, APIView):
    """``POST /api/hosting/spaces/<id>/deploy``: publish the current files and make them live."""

    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        request=None,
        responses={
            201: serializers.SiteDeploymentSerializer,
            404: SITE_NOT_FOUND,
            422: error("NOTHING_TO_DEPLOY: the site has no files yet."),
            507: error("STORAGE_FULL: the server's disk is full; the live release is unchanged."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        site = self.site(request, pk)
        try:
            deployment = services.site_deploy(site=site, author=request.user)
        except ValidationError as exc:
            raise ApiError(422, "NOTHING_TO_DEPLOY", " ".join(exc.messages)) from exc
        except FileError as exc:
            raise _file_error(exc) from exc
        site.refresh_from_db(fields=["live_deployment", "status"])
        answer = serializers.SiteDeploymentSerializer(deployment, context={"site": site}).data
        return Response(answer, status=status.HTTP_201_CREATED)


class DeploymentListView(SiteMixin, APIView):
    """``GET /api/hosting/spaces/<id>/deployments``, newest first, paginated."""

    results_key = "deployments"

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: serializers.SiteDeploymentPageSerializer, 404: SITE_NOT_FOUND},
        tags=["deployments"],
    )
    def get(self, request, pk):
        site = self.site(request, pk)
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors.site_deployments(user=request.user, site=site), request, view=self
        )
        return paginator.get_paginated_response(
            serializers.SiteDeploymentSerializer(page, many=True, context={"site": site}).data
        )


class RollbackView(APIView):
    """``POST /api/deployments/<id>/rollback``: make an earlier deployment live again."""

    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        request=None,
        responses={
            201: serializers.SiteDeploymentSerializer,
            404: error("DEPLOYMENT_NOT_FOUND: no such deployment of yours."),
            422: error("DEPLOYMENT_NOT_RESTORABLE: only a successful deployment comes back."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        try:
            target = selectors.deployment_get(user=request.user, pk=pk)
        except Deployment.DoesNotExist as exc:
            raise ApiError(404, "DEPLOYMENT_NOT_FOUND", "No deployment with that id.") from exc
        authorize(request.user, SITE_MANAGE, target)
        try:
            restored = deployment_rollback(deployment=target, author=request.user)
        except ValidationError as exc:
            raise ApiError(422, "DEPLOYMENT_NOT_RESTORABLE", " ".join(exc.messages)) from exc
        site = Site.objects.get(pk=target.site_id)
        answer = serializers.SiteDeploymentSerializer(restored, context={"site": site}).data
        return Response(answer, status=status.HTTP_201_CREATED)
