"""The status API (public) and the operators' monitoring API (staff only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError
from controlpanel.api.permissions import OperatorOnly
from controlpanel.api.schema import error
from monitoring import selectors, services
from monitoring.api import serializers as api
from monitoring.models import Service


class PublicView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


class StatusServicesView(PublicView):
    @extend_schema(responses={200: api.ServicesResponseSerializer}, tags=["status"])
    def get(self, request):
        rows = selectors.status_services()
        return Response({"overall": selectors.overall_status(rows), "services": rows})


class StatusMetricsView(PublicView):
    @extend_schema(responses={200: api.MetricsResponseSerializer}, tags=["status"])
    def get(self, request):
        return Response({"metrics": selectors.status_metrics()})


class StatusHistoryView(PublicView):
    @extend_schema(
        parameters=[api.HistoryQuerySerializer],
        responses={
            200: api.HistoryResponseSerializer,
            404: error("SERVICE_NOT_FOUND: no service with that name."),
        },
        tags=["status"],
    )
    def get(self, request):
        query = api.HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        service = None
        if slug := query.validated_data.get("service"):
            service = Service.objects.filter(slug=slug, enabled=True).first()
            if service is None:
                raise ApiError(404, "SERVICE_NOT_FOUND", "No service with that name.")
        history = selectors.status_history(days=query.validated_data["days"], service=service)
        return Response({"history": history})


class StatusIncidentsView(PublicView):
    @extend_schema(responses={200: api.IncidentsResponseSerializer}, tags=["status"])
    def get(self, request):
        incidents = selectors.incident_list(limit=20)
        return Response({"incidents": api.IncidentSerializer(incidents, many=True).data})


class OperatorView(APIView):
    permission_classes = [OperatorOnly]


class ServerStatsView(OperatorView):
    @extend_schema(responses={200: api.ServerStatsSerializer}, tags=["monitoring"])
    def get(self, request):
        return Response(selectors.server_stats())


class ProcessListView(OperatorView):
    @extend_schema(responses={200: api.ProcessesResponseSerializer}, tags=["monitoring"])
    def get(self, request):
        return Response({"containers": selectors.process_list()})


class ProcessRestartView(OperatorView):
    @extend_schema(
        request=None,
        responses={
            200: api.ProcessRestartResponseSerializer,
            202: api.ProcessRestartResponseSerializer,
            404: error("CONTAINER_NOT_FOUND: no supervised process with that id."),
            502: error("RESTART_FAILED: the supervisor could not restart it."),
        },
        tags=["monitoring"],
    )
    def post(self, request, pk: str):
        if pk not in selectors.process_names():
            raise ApiError(404, "CONTAINER_NOT_FOUND", "No supervised process with that id.")
        try:
            info = services.process_restart_requested(name=pk, actor=request.user, request=request)
        except services.RestartFailed as exc:
            raise ApiError(502, "RESTART_FAILED", str(exc)) from exc
        if info is None:  # the web server itself: a worker restarts it and audits it
            return Response({"container": None, "status": "restarting"}, status=202)
        row = next(row for row in selectors.process_list() if row["id"] == pk)
        return Response({"container": row, "status": "restarted"})


class AdminMonitoringView(OperatorView):
    @extend_schema(responses={200: api.MonitoringSummarySerializer}, tags=["monitoring"])
    def get(self, request):
        return Response(api.MonitoringSummarySerializer(selectors.monitoring_summary()).data)
