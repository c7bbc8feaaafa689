"""The Autostack client's analytics endpoints, for the caller's current team. Views only
translate: every figure comes from analytics.selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.api import serializers
from controlpanel.api.exceptions import ApiError
from controlpanel.api.schema import error
from teams.context import current_team
from teams.permissions import VIEW, authorize

NOT_FOUND = error("SITE_NOT_FOUND or PROJECT_NOT_FOUND: the filter names none of the team's.")


class AnalyticsView(APIView):
    """``GET`` with ``period``, ``site`` and ``project``; any member of the team may read."""

    response_serializer: type[serializers.serializers.Serializer]

    def scope(self, request) -> selectors.Scope:
        query = serializers.AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        team = current_team(request)
        authorize(request.user, VIEW, team)
        data = query.validated_data
        try:
            return selectors.scope_for(
                team=team,
                days=data["period"],
                site_id=data.get("site"),
                project_id=data.get("project"),
            )
        except selectors.ScopeError as exc:
            raise ApiError(404, f"{exc.field.upper()}_NOT_FOUND", str(exc)) from None

    def figures(self, scope: selectors.Scope) -> dict:
        raise NotImplementedError

    def get(self, request):
        data = self.figures(self.scope(request))
        return Response(self.response_serializer(data).data)


def schema(response):
    return extend_schema(
        parameters=[serializers.AnalyticsQuerySerializer],
        responses={200: response, 404: NOT_FOUND},
        tags=["analytics"],
    )


class MetricsView(AnalyticsView):
    response_serializer = serializers.AnalyticsMetricsResponseSerializer

    @schema(serializers.AnalyticsMetricsResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {"metrics": selectors.metrics(scope)}


class FrequencyView(AnalyticsView):
    response_serializer = serializers.AnalyticsFrequencyResponseSerializer

    @schema(serializers.AnalyticsFrequencyResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {"deploymentFrequency": selectors.deployment_frequency(scope)}


class SuccessRatesView(AnalyticsView):
    response_serializer = serializers.AnalyticsSuccessRatesResponseSerializer

    @schema(serializers.AnalyticsSuccessRatesResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {"successRates": selectors.success_rates(scope)}


class BuildDurationsView(AnalyticsView):
    response_serializer = serializers.AnalyticsBuildDurationsResponseSerializer

    @schema(serializers.AnalyticsBuildDurationsResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {
            "buildDurations": selectors.build_durations(scope),
            "summary": selectors.build_summary(scope),
        }


class ResourceUsageView(AnalyticsView):
    response_serializer = serializers.AnalyticsResourceUsageResponseSerializer

    @schema(serializers.AnalyticsResourceUsageResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        used = selectors.resources(scope)
        return {"resourceUsage": used["rows"], "sites": used["sites"]}


class DeploymentStatusView(AnalyticsView):
    response_serializer = serializers.AnalyticsDeploymentStatusResponseSerializer

    @schema(serializers.AnalyticsDeploymentStatusResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {"deploymentStatus": selectors.deployment_status(scope)}


class HourlyView(AnalyticsView):
    response_serializer = serializers.AnalyticsHourlyResponseSerializer

    @schema(serializers.AnalyticsHourlyResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {"hourlyDeployments": selectors.hourly_deployments(scope)}


class DoraView(AnalyticsView):
    response_serializer = serializers.AnalyticsDoraResponseSerializer

    @schema(serializers.AnalyticsDoraResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {"dora": selectors.dora(scope)}


class TrafficView(AnalyticsView):
    response_serializer = serializers.AnalyticsTrafficResponseSerializer

    @schema(serializers.AnalyticsTrafficResponseSerializer)
    def get(self, request):
        return super().get(request)

    def figures(self, scope):
        return {"traffic": selectors.traffic(scope)}
