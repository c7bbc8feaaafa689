"""Folder deploys that upload only what the server lacks, promotion, and previews, over the REST
API (the ``berth`` command-line client uses these).

A folder deploy, as Netlify's deploy API does it: ``POST /api/sites/<id>/deploys`` with the
manifest (path -> SHA-256) answers the digests the server needs; each is sent once with
``PUT /api/deployments/<id>/blobs/<digest>``; ``POST /api/deployments/<id>/publish`` makes the
release. The writes are in deployments.uploads and deployments.services.
"""

from __future__ import annotations

import io

from django.core.exceptions import TooManyFilesSent, ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError
from controlpanel.api.schema import error
from controlpanel.api.throttling import DeploymentCreateThrottle, GeneralRateThrottle
from controlpanel.api.views import validated
from deployments import selectors as deployment_selectors
from deployments import uploads
from deployments.models import Deployment
from deployments.services import deployment_promote, preview_remove
from hosting import selectors
from hosting.api import serializers
from hosting.api.views import SITE_NOT_FOUND, SiteMixin
from hosting.files.errors import FileError
from hosting.files.requests import too_many_files
from hosting.models import Site
from teams.audit import base_request
from teams.permissions import SITE_MANAGE, authorize_request

DEPLOYMENT_NOT_FOUND = error("DEPLOYMENT_NOT_FOUND: no such deployment of yours.")
UPLOAD_STATUS = {
    "VALIDATION_ERROR": 422,
    "DIGEST_MISMATCH": 422,
    "DEPLOY_TOO_LARGE": 413,
    "PAYLOAD_TOO_LARGE": 413,
    "BLOB_NOT_IN_DEPLOY": 404,
    "DEPLOYMENT_NOT_UPLOADING": 409,
    "BLOBS_MISSING": 409,
}


def upload_error(exc: ValidationError) -> ApiError:
    if isinstance(exc, uploads.UploadRefused):
        code = exc.error_code
        return ApiError(UPLOAD_STATUS.get(code, 422), code, exc.messages[0], exc.details)
    return ApiError(422, "VALIDATION_ERROR", " ".join(exc.messages))


def deployment_for(request, pk) -> Deployment:
    """A deployment of the caller's teams their role allows this request on."""
    try:
        deployment = selectors.deployment_get(user=request.user, pk=pk)
    except Deployment.DoesNotExist as exc:
        raise ApiError(404, "DEPLOYMENT_NOT_FOUND", "No deployment with that id.") from exc
    authorize_request(request, deployment, SITE_MANAGE)
    return deployment


def deployment_json(deployment: Deployment) -> dict:
    site = Site.objects.get(pk=deployment.site_id)
    return serializers.SiteDeploymentSerializer(deployment, context={"site": site}).data


class FolderDeployView(SiteMixin, APIView):
    """``POST /api/sites/<id>/deploys``: start a folder deploy from its manifest."""

    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        request=serializers.FolderDeployCreateSerializer,
        responses={
            201: serializers.FolderDeploySerializer,
            404: SITE_NOT_FOUND,
            413: error("DEPLOY_TOO_LARGE: more files than DEPLOY_MAX_FILES."),
            422: error("VALIDATION_ERROR: a path or digest is refused."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        site = self.site(request, pk)
        data = validated(serializers.FolderDeployCreateSerializer, request)
        try:
            started = uploads.upload_deploy_start(
                site=site, files=data["files"], author=request.user, activate=data["activate"]
            )
        except ValidationError as exc:
            raise upload_error(exc) from exc
        answer = serializers.FolderDeploySerializer(started, context={"site": site}).data
        return Response(answer, status=status.HTTP_201_CREATED)


class BlobUploadView(APIView):
    """``PUT /api/deployments/<id>/blobs/<digest>``: one file of a folder deploy, the raw
    contents as the body. Not rate limited per request: a deploy takes only the files its
    manifest names, and starting a deploy is limited."""

    throttle_classes: list = []

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={
            200: serializers.BlobReceivedSerializer,
            404: error("DEPLOYMENT_NOT_FOUND, or BLOB_NOT_IN_DEPLOY: no such file in the deploy."),
            409: error("DEPLOYMENT_NOT_UPLOADING: the deploy was published, cancelled or failed."),
            413: error("PAYLOAD_TOO_LARGE: the file is over SITE_UPLOAD_MAX_FILE_MB."),
            422: error("DIGEST_MISMATCH: the contents do not hash to the digest."),
            507: error("STORAGE_FULL: the server's disk is full; nothing was kept."),
        },
        tags=["deployments"],
    )
    def put(self, request, pk, digest):
        deployment = deployment_for(request, pk)
        try:
            size = uploads.upload_blob_receive(
                deployment=deployment, digest=digest, stream=request.stream or io.BytesIO()
            )
        except ValidationError as exc:
            raise upload_error(exc) from exc
        except FileError as exc:
            raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
        finally:
            _not_audited_alone(request)
        return Response(serializers.BlobReceivedSerializer({"digest": digest, "size": size}).data)


def _not_audited_alone(request) -> None:
    """A folder deploy's start and publish are in the team's audit log; its uploads, parts of
    it, would only bury them (a thousand lines for a thousand files)."""
    base_request(request)._audited = True


class BlobBatchUploadView(APIView):
    """``POST /api/deployments/<id>/blobs``: several files of a folder deploy in one multipart
    request, each a file field named by its digest (small files: one request, not hundreds).
    Not rate limited per request, as the PUT."""

    throttle_classes: list = []

    @extend_schema(
        request={"multipart/form-data": serializers.BlobBatchSerializer},
        responses={
            200: serializers.BlobReceivedListSerializer,
            404: error("DEPLOYMENT_NOT_FOUND, or BLOB_NOT_IN_DEPLOY: no such file in the deploy."),
            409: error("DEPLOYMENT_NOT_UPLOADING: the deploy was published, cancelled or failed."),
            413: error("PAYLOAD_TOO_LARGE: a file over SITE_UPLOAD_MAX_FILE_MB, or too many."),
            422: error("DIGEST_MISMATCH: some contents do not hash to their digest."),
            507: error("STORAGE_FULL: the server's disk is full."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        deployment = deployment_for(request, pk)
        try:
            try:
                parts = [(name, upload) for name, upload in request.FILES.items()]
            except TooManyFilesSent as exc:
                raise too_many_files() from exc
            if not parts:
                raise ApiError(422, "VALIDATION_ERROR", "Send file fields named by their digest.")
            sizes = uploads.upload_blobs_receive(deployment=deployment, files=parts)
        except ValidationError as exc:
            raise upload_error(exc) from exc
        except FileError as exc:
            raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
        finally:
            _not_audited_alone(request)
        received = [{"digest": d, "size": n} for (d, _), n in zip(parts, sizes, strict=True)]
        return Response(serializers.BlobReceivedListSerializer({"received": received}).data)


class DeployPublishView(APIView):
    """``POST /api/deployments/<id>/publish``: publish a folder deploy whose files are all
    uploaded (and make it live, unless it was started as a draft)."""

    @extend_schema(
        request=None,
        responses={
            200: serializers.SiteDeploymentSerializer,
            404: DEPLOYMENT_NOT_FOUND,
            409: error("BLOBS_MISSING (details.required lists them), or DEPLOYMENT_NOT_UPLOADING."),
            413: error("DEPLOY_TOO_LARGE: the files add up to more than MAX_BUILD_SIZE."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        deployment = deployment_for(request, pk)
        try:
            published = uploads.upload_deploy_publish(deployment=deployment)
        except ValidationError as exc:
            raise upload_error(exc) from exc
        site = Site.objects.get(pk=published.site_id)
        answer = serializers.SiteDeploymentSerializer(published, context={"site": site}).data
        return Response(answer)


class PromoteView(APIView):
    """``POST /api/deployments/<id>/promote``: make a preview or a draft production, without a
    rebuild (the pointer switch of a rollback, recorded as one)."""

    throttle_classes = [GeneralRateThrottle, DeploymentCreateThrottle]

    @extend_schema(
        request=None,
        responses={
            201: serializers.SiteDeploymentSerializer,
            404: DEPLOYMENT_NOT_FOUND,
            422: error("DEPLOYMENT_NOT_RESTORABLE: only a successful deployment goes live."),
        },
        tags=["deployments"],
    )
    def post(self, request, pk):
        target = deployment_for(request, pk)
        try:
            promoted = deployment_promote(deployment=target, author=request.user)
        except ValidationError as exc:
            raise ApiError(422, "DEPLOYMENT_NOT_RESTORABLE", " ".join(exc.messages)) from exc
        return Response(deployment_json(promoted), status=status.HTTP_201_CREATED)


class PreviewListView(SiteMixin, APIView):
    """``GET /api/sites/<id>/previews``: the site's branch and pull request previews."""

    @extend_schema(
        responses={200: serializers.PreviewListSerializer, 404: SITE_NOT_FOUND},
        tags=["deployments"],
    )
    def get(self, request, pk):
        site = self.site(request, pk)
        previews = deployment_selectors.preview_list(site=site)
        return Response(serializers.PreviewListSerializer({"previews": previews}).data)


class PreviewDetailView(SiteMixin, APIView):
    """``DELETE /api/sites/<id>/previews/<name>``: remove a preview (its address stops
    answering; its deployments stay at their own addresses)."""

    @extend_schema(
        responses={
            200: serializers.PreviewRemovedSerializer,
            404: error("SITE_NOT_FOUND, or PREVIEW_NOT_FOUND: the site has no such preview."),
        },
        tags=["deployments"],
    )
    def delete(self, request, pk, name):
        site = self.site(request, pk)
        removed = preview_remove(site=site, name=name)
        if not removed:
            raise ApiError(404, "PREVIEW_NOT_FOUND", f"The site has no preview “{name}”.")
        answer = {"name": name, "deployments": removed}
        return Response(serializers.PreviewRemovedSerializer(answer).data)
