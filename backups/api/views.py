"""Backups over the REST API.

The Cloud Haven client's two paths — ``GET /api/sites/<id>/backups`` and ``POST
/api/sites/<id>/backups/<backupId>/restore`` — with its Backup shape, and Berth's own: ``POST
/api/sites/<id>/backups`` (back up now), ``GET /api/sites/<id>/backups/<backupId>`` (a run's
state) and ``GET /api/sites/<id>/restores/<restoreId>``. The site is looked up among the
caller's teams (another team's answers 404) and writes need ``site.manage``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from backups import downloads, selectors, services
from backups.api.serializers import (
    BackupPageSerializer,
    BackupSerializer,
    RestoreRequestSerializer,
    RestoreSerializer,
    ScheduleSerializer,
)
from backups.models import Backup, Restore
from controlpanel.api.exceptions import ApiError
from controlpanel.api.pagination import PagePagination
from controlpanel.api.schema import error
from controlpanel.api.views import validated
from hosting.api.views import SiteMixin
from hosting.models import Site
from teams.permissions import SITE_MANAGE, authorize

PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("limit", int, description="Items per page."),
]
BACKUP_NOT_FOUND = error("SITE_NOT_FOUND or BACKUP_NOT_FOUND: no such site or backup of yours.")


class BackupMixin(SiteMixin):
    def backup(self, request, pk, backup_id) -> Backup:
        site = self.site(request, pk)
        try:
            return selectors.backup_get(site=site, pk=backup_id)
        except Backup.DoesNotExist as exc:
            raise ApiError(404, "BACKUP_NOT_FOUND", "No backup with that id.") from exc


class BackupListView(BackupMixin, APIView):
    results_key = "backups"

    @extend_schema(
        operation_id="sites_backups_list",
        parameters=PAGE_PARAMETERS,
        responses={200: BackupPageSerializer, 404: BACKUP_NOT_FOUND},
        tags=["backups"],
    )
    def get(self, request, pk):
        """The site's backups, newest first."""
        site = self.site(request, pk)
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.backups_of_site(site=site), request, view=self)
        return paginator.get_paginated_response(BackupSerializer(page, many=True).data)

    @extend_schema(
        operation_id="sites_backups_create",
        request=None,
        responses={202: BackupSerializer, 404: BACKUP_NOT_FOUND},
        tags=["backups"],
    )
    def post(self, request, pk):
        """Back up now: queues a manual backup (its ``state`` says how it went)."""
        site = self.site(request, pk)
        backup = services.backup_create(site=site, user=request.user)
        return Response(BackupSerializer(backup).data, status=status.HTTP_202_ACCEPTED)


class BackupDetailView(BackupMixin, APIView):
    @extend_schema(
        operation_id="sites_backups_detail",
        responses={200: BackupSerializer, 404: BACKUP_NOT_FOUND},
        tags=["backups"],
    )
    def get(self, request, pk, backup_id):
        return Response(BackupSerializer(self.backup(request, pk, backup_id)).data)

    @extend_schema(
        operation_id="sites_backups_delete",
        responses={
            204: None,
            404: BACKUP_NOT_FOUND,
            409: error("BACKUP_BUSY: the backup is running, or being restored."),
        },
        tags=["backups"],
    )
    def delete(self, request, pk, backup_id):
        """Delete the backup; its snapshot is forgotten and the repository pruned shortly after."""
        backup = self.backup(request, pk, backup_id)
        try:
            services.backup_delete(backup=backup, user=request.user)
        except ValidationError as exc:
            raise ApiError(409, "BACKUP_BUSY", exc.messages[0]) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class BackupRestoreView(BackupMixin, APIView):
    @extend_schema(
        operation_id="sites_backups_restore",
        request=RestoreRequestSerializer,
        responses={
            202: RestoreSerializer,
            404: BACKUP_NOT_FOUND,
            409: error("NOT_RESTORABLE: the backup did not succeed, or a restore is under way."),
        },
        tags=["backups"],
    )
    def post(self, request, pk, backup_id):
        """Restore the site from the backup (a "before restore" backup is taken first); or,
        given ``newSiteName`` or ``targetSiteId``, into a new or another site of the team."""
        backup = self.backup(request, pk, backup_id)
        data = validated(RestoreRequestSerializer, request) if request.data else {}
        target = None
        if data.get("target_id"):
            try:
                target = selectors.restore_targets(site=backup.site).get(pk=data["target_id"])
            except Site.DoesNotExist as exc:
                raise ApiError(404, "SITE_NOT_FOUND", "No such site of this team.") from exc
        try:
            job = services.restore_create(
                backup=backup,
                user=request.user,
                new_site_name=data.get("new_site_name", ""),
                target=target,
            )
        except ValidationError as exc:
            raise ApiError(409, "NOT_RESTORABLE", exc.messages[0]) from exc
        return Response(RestoreSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class GzipRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``application/gzip``; the body is streamed, never rendered."""

    media_type = "application/gzip"
    format = "tar.gz"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class BackupDownloadView(BackupMixin, APIView):
    renderer_classes = [renderers.JSONRenderer, GzipRenderer]

    @extend_schema(
        operation_id="sites_backups_download",
        responses={
            (200, "application/gzip"): OpenApiTypes.BINARY,
            404: BACKUP_NOT_FOUND,
            409: error("NOT_DOWNLOADABLE: the backup did not succeed, or its snapshot is gone."),
            502: error("REPOSITORY_UNAVAILABLE: the backup repository could not be read."),
        },
        tags=["backups"],
    )
    def get(self, request, pk, backup_id):
        """The backup as a ``.tar.gz`` (its files, manifest, editor pages and, for WordPress,
        the database dump), streamed as restic reads it. Needs ``site.manage``."""
        backup = self.backup(request, pk, backup_id)
        authorize(request.user, SITE_MANAGE, backup.site)
        try:
            archive = downloads.backup_archive(backup=backup, user=request.user)
        except ValidationError as exc:
            raise ApiError(409, "NOT_DOWNLOADABLE", exc.messages[0]) from exc
        except downloads.DownloadUnavailable as exc:
            raise ApiError(502, "REPOSITORY_UNAVAILABLE", str(exc)) from exc
        return downloads.archive_response(archive, request)


class RestoreDetailView(BackupMixin, APIView):
    @extend_schema(
        operation_id="sites_restores_detail",
        responses={200: RestoreSerializer, 404: error("SITE_NOT_FOUND or RESTORE_NOT_FOUND.")},
        tags=["backups"],
    )
    def get(self, request, pk, restore_id):
        site = self.site(request, pk)
        try:
            job = selectors.restore_get(site=site, pk=restore_id)
        except Restore.DoesNotExist as exc:
            raise ApiError(404, "RESTORE_NOT_FOUND", "No restore with that id.") from exc
        return Response(RestoreSerializer(job).data)


class ScheduleView(BackupMixin, APIView):
    """``GET/PUT /api/sites/<id>/backups/schedule``: daily or weekly backups at an hour (UTC),
    or ``off``."""

    def schedule_json(self, site) -> dict:
        schedule = selectors.schedule_of(site=site)
        if schedule is None:
            return {
                "frequency": "off",
                "hour": 3,
                "weekday": 0,
                "keepLast": 7,
                "keepDaily": 7,
                "keepWeekly": 4,
                "keepMonthly": 6,
                "nextRunAt": None,
            }
        return {
            "frequency": schedule.frequency,
            "hour": schedule.hour,
            "weekday": schedule.weekday,
            "keepLast": schedule.keep_last,
            "keepDaily": schedule.keep_daily,
            "keepWeekly": schedule.keep_weekly,
            "keepMonthly": schedule.keep_monthly,
            "nextRunAt": ScheduleSerializer()
            .fields["nextRunAt"]
            .to_representation(schedule.next_run_at),
        }

    @extend_schema(
        operation_id="sites_backups_schedule",
        responses={200: ScheduleSerializer, 404: BACKUP_NOT_FOUND},
        tags=["backups"],
    )
    def get(self, request, pk):
        return Response(self.schedule_json(self.site(request, pk)))

    @extend_schema(
        operation_id="sites_backups_schedule_set",
        request=ScheduleSerializer,
        responses={200: ScheduleSerializer, 404: BACKUP_NOT_FOUND},
        tags=["backups"],
    )
    def put(self, request, pk):
        site = self.site(request, pk)
        data = validated(ScheduleSerializer, request)
        services.schedule_set(site=site, user=request.user, **data)
        return Response(self.schedule_json(site))
