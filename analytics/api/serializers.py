"""The Autostack client's analytics shapes (camelCase), and the figures Berth adds beside them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analytics.selectors import DEFAULT_PERIOD, PERIODS


@extend_schema_field(
    {"type": "string", "enum": [str(days) for days in PERIODS] + [f"{days}d" for days in PERIODS]}
)
class PeriodField(serializers.Field):
    """``7``, ``30`` or ``90`` days (``7d`` is read as ``7``)."""

    default_error_messages = {"invalid": "Choose 7, 30 or 90 (days)."}

    def to_internal_value(self, data):
        text = str(data).strip().lower().removesuffix("d")
        if not text.isdigit() or int(text) not in PERIODS:
            self.fail("invalid")
        return int(text)

    def to_representation(self, value):
        return value


class AnalyticsQuerySerializer(serializers.Serializer):
    period = PeriodField(
        required=False,
        default=DEFAULT_PERIOD,
        help_text="Days of history, today included: 7, 30 (default) or 90.",
    )
    site = serializers.UUIDField(required=False, help_text="Only this site of the team.")
    project = serializers.UUIDField(required=False, help_text="Only this project's site.")


class AnalyticsMetricsSerializer(serializers.Serializer):
    totalDeployments = serializers.IntegerField(source="total_deployments")
    deploymentsChange = serializers.FloatField(
        source="deployments_change",
        allow_null=True,
        help_text="Percent against the previous period of the same length; null: none then.",
    )
    successRate = serializers.FloatField(
        source="success_rate", allow_null=True, help_text="success ÷ (success + failed), %."
    )
    successChange = serializers.FloatField(
        source="success_change", allow_null=True, help_text="Percentage points."
    )
    avgBuildTime = serializers.CharField(source="avg_build_time", help_text='Like "2m 8s".')
    avgBuildSeconds = serializers.FloatField(source="avg_build_seconds", allow_null=True)
    buildTimeChange = serializers.FloatField(source="build_time_change", allow_null=True)
    activeProjects = serializers.IntegerField(
        source="active_projects", help_text="Sites deployed to in the period."
    )
    projectsChange = serializers.FloatField(source="projects_change", allow_null=True)


class AnalyticsMetricsResponseSerializer(serializers.Serializer):
    metrics = AnalyticsMetricsSerializer()


class AnalyticsFrequencyDaySerializer(serializers.Serializer):
    date = serializers.SerializerMethodField(help_text='Like "Jan 1".')
    day = serializers.DateField(help_text="The day, ISO 8601.")
    deployments = serializers.IntegerField()
    successful = serializers.IntegerField()

    def get_date(self, row) -> str:
        return short_date(row["day"])


class AnalyticsFrequencyResponseSerializer(serializers.Serializer):
    deploymentFrequency = AnalyticsFrequencyDaySerializer(many=True)


class AnalyticsSuccessWeekSerializer(serializers.Serializer):
    date = serializers.CharField(source="label", help_text='"Week 1", "Week 2", …')
    weekStart = serializers.DateField(source="week_start")
    success = serializers.FloatField(help_text="Percent of the week's finished builds.")
    failed = serializers.FloatField()
    builds = serializers.IntegerField(help_text="Finished builds (success + failed).")


class AnalyticsSuccessRatesResponseSerializer(serializers.Serializer):
    successRates = AnalyticsSuccessWeekSerializer(many=True)


class AnalyticsDurationDaySerializer(serializers.Serializer):
    date = serializers.SerializerMethodField()
    day = serializers.DateField()
    avgDuration = serializers.IntegerField(source="avg_duration", help_text="Seconds.")
    minDuration = serializers.IntegerField(source="min_duration")
    maxDuration = serializers.IntegerField(source="max_duration")
    builds = serializers.IntegerField()

    def get_date(self, row) -> str:
        return short_date(row["day"])


class AnalyticsBuildSummarySerializer(serializers.Serializer):
    builds = serializers.IntegerField(source="count")
    fastest = serializers.FloatField(allow_null=True, help_text="Seconds.")
    average = serializers.FloatField(allow_null=True)
    slowest = serializers.FloatField(allow_null=True)
    p50 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)


class AnalyticsBuildDurationsResponseSerializer(serializers.Serializer):
    buildDurations = AnalyticsDurationDaySerializer(many=True)
    summary = AnalyticsBuildSummarySerializer()


class AnalyticsResourceSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="CPU, Memory, Storage, Network.")
    value = serializers.FloatField(help_text="Percent of the total used.")
    used = serializers.FloatField(
        help_text="CPU: CPU seconds the sites' processes and builds used in the period. "
        "Memory: bytes the sites' processes hold now. Storage: bytes kept. Network: bytes "
        "served this month."
    )
    total = serializers.FloatField(
        help_text="CPU: seconds of one CPU core over the period. Memory: the host's bytes. "
        "Storage, Network: the sites' limits together."
    )
    unit = serializers.ChoiceField(choices=["cpu-seconds", "bytes"])


class AnalyticsResourceSiteSerializer(serializers.Serializer):
    siteId = serializers.UUIDField(source="site_id")
    name = serializers.CharField()
    processCpuSeconds = serializers.FloatField(
        source="process_cpu_seconds", help_text="CPU time of its processes (PHP pool)."
    )
    memory = serializers.IntegerField(help_text="Bytes its processes hold now.")
    memoryPeak = serializers.IntegerField(source="memory_peak", help_text="Bytes, most held.")
    buildCpuSeconds = serializers.FloatField(source="build_cpu_seconds")
    buildMemoryPeak = serializers.IntegerField(
        source="build_memory_peak", help_text="Bytes: the largest build's peak."
    )
    builds = serializers.IntegerField(help_text="Builds with a usage record.")


class AnalyticsResourceUsageResponseSerializer(serializers.Serializer):
    resourceUsage = AnalyticsResourceSerializer(many=True)
    sites = AnalyticsResourceSiteSerializer(many=True, help_text="Per site, those that used any.")


class AnalyticsNamedCountSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.IntegerField()


class AnalyticsDeploymentStatusResponseSerializer(serializers.Serializer):
    deploymentStatus = AnalyticsNamedCountSerializer(many=True)


class AnalyticsHourSerializer(serializers.Serializer):
    hour = serializers.CharField(help_text='"00:00" … "23:00", panel time zone.')
    deployments = serializers.IntegerField()


class AnalyticsHourlyResponseSerializer(serializers.Serializer):
    hourlyDeployments = AnalyticsHourSerializer(many=True)


class AnalyticsDoraSerializer(serializers.Serializer):
    deploysPerDay = serializers.FloatField(source="deploys_per_day")
    deploysPerWeek = serializers.FloatField(source="deploys_per_week")
    successfulDeploys = serializers.IntegerField(source="successful_deploys")
    changeFailureRate = serializers.FloatField(source="change_failure_rate", allow_null=True)
    failedDeploys = serializers.IntegerField(source="failed_deploys")
    timeToRestore = serializers.FloatField(
        source="time_to_restore_seconds", allow_null=True, help_text="Seconds, average."
    )
    restores = serializers.IntegerField()
    buildDurationP50 = serializers.FloatField(source="build_p50_seconds", allow_null=True)
    buildDurationP95 = serializers.FloatField(source="build_p95_seconds", allow_null=True)


class AnalyticsDoraResponseSerializer(serializers.Serializer):
    dora = AnalyticsDoraSerializer()


class AnalyticsStatusClassesSerializer(serializers.Serializer):
    """Requests answered per status class (both site servers)."""

    success = serializers.IntegerField(source="2xx", help_text="2xx answers.")
    redirects = serializers.IntegerField(source="3xx", help_text="3xx answers (304 included).")
    clientErrors = serializers.IntegerField(source="4xx", help_text="4xx answers.")
    serverErrors = serializers.IntegerField(source="5xx", help_text="5xx answers.")


class AnalyticsTrafficDaySerializer(AnalyticsStatusClassesSerializer):
    date = serializers.DateField(source="day")
    requests = serializers.IntegerField()
    bytes = serializers.IntegerField()


class AnalyticsTrafficSiteSerializer(AnalyticsStatusClassesSerializer):
    siteId = serializers.UUIDField(source="site_id")
    name = serializers.CharField()
    slug = serializers.CharField()
    requests = serializers.IntegerField()
    bytes = serializers.IntegerField()


class AnalyticsTrafficStatusSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="HTTP status code.")
    statusClass = serializers.CharField(source="class", help_text='"2xx" … "5xx", or "other".')
    requests = serializers.IntegerField()


class AnalyticsTrafficPathSerializer(serializers.Serializer):
    siteId = serializers.UUIDField(source="site_id")
    site = serializers.CharField(help_text="The site's name.")
    path = serializers.CharField(help_text="Decoded, without the query string.")
    requests = serializers.IntegerField()
    bytes = serializers.IntegerField()


class AnalyticsTrafficSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    bytes = serializers.IntegerField()
    days = AnalyticsTrafficDaySerializer(many=True)
    sites = AnalyticsTrafficSiteSerializer(many=True)
    statusCodes = AnalyticsTrafficStatusSerializer(source="statuses", many=True)
    topPaths = AnalyticsTrafficPathSerializer(
        source="paths",
        many=True,
        help_text="The 20 most requested paths of the period (each day keeps its 50 busiest).",
    )


class AnalyticsTrafficResponseSerializer(serializers.Serializer):
    traffic = AnalyticsTrafficSerializer()


def short_date(day) -> str:
    return f"{day:%b} {day.day}"
