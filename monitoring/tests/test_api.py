"""The status API (public, the Autostack client's shapes), server stats and the operator summary
(Cloud Haven's shapes, operators only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import bearer_client
from monitoring.checks import Outcome
from monitoring.models import Service
from monitoring.services import check_record, heartbeat_record, incident_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked(db):
    now = timezone.now()
    api = Service.objects.create(slug="api", name="API Gateway", kind=Service.Kind.PANEL)
    db_service = Service.objects.create(slug="db", name="Database", kind=Service.Kind.DATABASE)
    for i in range(3):
        check_record(service=api, outcome=Outcome("operational", 40 + i, ""), now=now)
    check_record(service=db_service, outcome=Outcome("down", None, "refused"), now=now)
    return api, db_service


def test_services_are_public_with_uptime_from_the_checks(checked):
    body = APIClient().get("/api/status/services").json()
    assert body["overall"] == {"status": "down", "message": "Some systems are down"}
    api, database = body["services"]
    assert api["name"] == "API Gateway" and api["status"] == "operational"
    assert api["uptime"] == 100.0 and api["responseTime"] == 42
    assert database["status"] == "down" and database["uptime"] == 0.0
    assert database["responseTime"] is None and database["message"] == "refused"


def test_history_has_one_row_per_day_and_validates_its_query(checked):
    client = APIClient()
    history = client.get("/api/status/history?days=90").json()["history"]
    assert len(history) == 90
    assert history[-1]["uptime"] == 75.0  # 3 of 4 checks today were not down
    assert history[0]["uptime"] is None
    one = client.get("/api/status/history?days=7&service=db").json()["history"]
    assert len(one) == 7 and one[-1]["uptime"] == 0.0
    bad = client.get("/api/status/history?days=0")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
    missing = client.get("/api/status/history?service=nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SERVICE_NOT_FOUND"


def test_incidents_list_their_timeline_and_affected_services(checked, operator):
    api, _ = checked
    incident_create(title="Slow API", message="Looking.", services=[api], author=operator)
    [incident] = APIClient().get("/api/status/incidents").json()["incidents"]
    assert incident["title"] == "Slow API" and incident["status"] == "investigating"
    assert incident["affectedServices"] == ["API Gateway"] and incident["resolvedAt"] is None
    assert incident["updates"][0]["message"] == "Looking."


def test_metrics_come_from_the_deployments(db):
    metrics = APIClient().get("/api/status/metrics").json()["metrics"]
    assert set(metrics) == {
        "totalDeployments",
        "deploymentChange",
        "activeProjects",
        "projectChange",
        "avgDeployTime",
        "timeChange",
        "successRate",
        "successChange",
    }
    assert metrics["totalDeployments"] == 0 and metrics["successRate"] == "0.0%"


def test_server_stats_in_cloud_havens_shape_for_operators_only(operator, alice):
    sample = {
        "cpu": 12.5,
        "memory": 40.0,
        "disk": 70.25,
        "load1": 0.5,
        "cpu_count": 2,
        "memory_total": 8 << 30,
        "disk_total": 100 << 30,
    }
    heartbeat_record(
        name="web-1", role="web", sample=sample, now=timezone.now() - timedelta(minutes=1)
    )
    heartbeat_record(name="web-1", role="web", sample={**sample, "cpu": 55.0})
    heartbeat_record(name="worker-1", role="worker", sample={**sample, "disk": 10.0})
    body = bearer_client(operator).get("/api/server/stats").json()
    assert body["cpu"] == [
        {"server": "web-1", "usage": 55.0},
        {"server": "worker-1", "usage": 12.5},
    ]
    assert body["disk"] == [
        {"server": "web-1", "usage": 70.2},
        {"server": "worker-1", "usage": 10.0},
    ]
    assert [row["server"] for row in body["memory"]] == ["web-1", "worker-1"]
    for path in ("/api/server/stats", "/api/containers", "/api/admin/monitoring"):
        assert bearer_client(alice).get(path).status_code == 403
        assert APIClient().get(path).status_code == 401


def test_admin_monitoring_summary(checked, operator):
    body = bearer_client(operator).get("/api/admin/monitoring").json()
    assert body["overall"]["status"] == "down"
    assert {s["slug"] for s in body["services"]} == {"api", "db"}
    assert body["queues"] == {"queuedDeployments": 0, "building": 0, "oldestQueuedSeconds": 0}
    assert set(body) >= {"servers", "hosts", "processes", "incidents"}
