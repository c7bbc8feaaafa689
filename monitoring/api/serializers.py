"""The status API's shapes (the Autostack client's and Cloud Haven's field names)."""

from __future__ import annotations

from rest_framework import serializers


class ServiceStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.ChoiceField(choices=["operational", "degraded", "down"])
    uptime = serializers.FloatField(allow_null=True, help_text="% of checks not down, 90 days")
    responseTime = serializers.IntegerField(allow_null=True, help_text="ms, latest check")
    message = serializers.CharField(allow_blank=True)
    lastCheckedAt = serializers.DateTimeField(allow_null=True)


class OverallSerializer(serializers.Serializer):
    status = serializers.CharField()
    message = serializers.CharField()


class ServicesResponseSerializer(serializers.Serializer):
    overall = OverallSerializer()
    services = ServiceStatusSerializer(many=True)


class MetricsSerializer(serializers.Serializer):
    totalDeployments = serializers.IntegerField()
    deploymentChange = serializers.FloatField()
    activeProjects = serializers.IntegerField()
    projectChange = serializers.FloatField()
    avgDeployTime = serializers.CharField()
    timeChange = serializers.FloatField()
    successRate = serializers.CharField()
    successChange = serializers.FloatField()


class MetricsResponseSerializer(serializers.Serializer):
    metrics = MetricsSerializer()


class HistoryDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    label = serializers.CharField()
    uptime = serializers.FloatField(allow_null=True)
    degraded = serializers.BooleanField()
    incidents = serializers.IntegerField()


class HistoryResponseSerializer(serializers.Serializer):
    history = HistoryDaySerializer(many=True)


class HistoryQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=365, default=90)
    service = serializers.SlugField(required=False)


class IncidentUpdateSerializer(serializers.Serializer):
    status = serializers.CharField(source="state")
    message = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")


class IncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField(source="state")
    severity = serializers.CharField()
    automatic = serializers.BooleanField()
    affectedServices = serializers.SerializerMethodField()
    startedAt = serializers.DateTimeField(source="started_at")
    resolvedAt = serializers.DateTimeField(source="resolved_at", allow_null=True)
    updates = IncidentUpdateSerializer(many=True)

    def get_affectedServices(self, incident) -> list[str]:
        return [service.name for service in incident.services.all()]


class IncidentsResponseSerializer(serializers.Serializer):
    incidents = IncidentSerializer(many=True)


class ServerUsageSerializer(serializers.Serializer):
    server = serializers.CharField()
    usage = serializers.FloatField(help_text="percent")


class ServerStatsSerializer(serializers.Serializer):
    cpu = ServerUsageSerializer(many=True)
    memory = ServerUsageSerializer(many=True)
    disk = ServerUsageSerializer(many=True)


class ProcessSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    state = serializers.CharField()
    pid = serializers.IntegerField(allow_null=True)
    startedAt = serializers.DateTimeField(allow_null=True)
    uptime = serializers.IntegerField(help_text="seconds")
    cpu = serializers.FloatField(help_text="percent of one core")
    memory = serializers.IntegerField(help_text="bytes (resident, with children)")
    description = serializers.CharField(allow_blank=True)


class ProcessesResponseSerializer(serializers.Serializer):
    containers = ProcessSerializer(many=True)


class ProcessRestartResponseSerializer(serializers.Serializer):
    container = ProcessSerializer(allow_null=True)
    status = serializers.ChoiceField(choices=["restarted", "restarting"])


class HostSerializer(serializers.Serializer):
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    lastSeenAt = serializers.DateTimeField()
    alive = serializers.BooleanField()


class QueuesSerializer(serializers.Serializer):
    queuedDeployments = serializers.IntegerField()
    building = serializers.IntegerField()
    oldestQueuedSeconds = serializers.IntegerField()


class MonitoringSummarySerializer(serializers.Serializer):
    overall = OverallSerializer()
    services = ServiceStatusSerializer(many=True)
    servers = ServerStatsSerializer()
    hosts = HostSerializer(many=True)
    queues = QueuesSerializer()
    processes = ProcessSerializer(many=True)
    incidents = IncidentSerializer(many=True)
