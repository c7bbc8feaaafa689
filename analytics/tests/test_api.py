"""The analytics endpoints: the Autostack client's shapes, the caller's team only, filters,
errors in the envelope, and a number of queries that does not grow with the history."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.tests.fixtures import build_history
from conftest import bearer_client
from deployments.models import Deployment

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "metrics": "metrics",
    "deployment-frequency": "deploymentFrequency",
    "success-rates": "successRates",
    "build-durations": "buildDurations",
    "resource-usage": "resourceUsage",
    "deployment-status": "deploymentStatus",
    "hourly-deployments": "hourlyDeployments",
    "dora": "dora",
    "traffic": "traffic",
}


@pytest.fixture
def history(alice, bob):
    return build_history(alice, bob, timezone.localdate())


def get(client, name, **query):
    return client.get(f"/api/analytics/{name}", query)


def test_the_seven_endpoints_answer_in_the_autostack_shapes(api, history):
    metrics = get(api, "metrics", period=7).json()["metrics"]
    assert set(metrics) >= {
        "totalDeployments",
        "deploymentsChange",
        "successRate",
        "successChange",
        "avgBuildTime",
        "buildTimeChange",
        "activeProjects",
        "projectsChange",
    }
    assert metrics["totalDeployments"] == 9
    assert metrics["successRate"] == 57.1
    assert metrics["avgBuildTime"] == "1m 34s"
    assert metrics["activeProjects"] == 2

    frequency = get(api, "deployment-frequency", period=7).json()["deploymentFrequency"]
    assert len(frequency) == 7
    today = timezone.localdate()
    assert frequency[-1]["date"] == f"{today:%b} {today.day}"  # "Jan 1"
    assert [row["deployments"] for row in frequency] == [1, 3, 0, 0, 2, 1, 2]

    rates = get(api, "success-rates", period=7).json()["successRates"]
    assert rates[0]["date"] == "Week 1"
    assert {"success", "failed"} <= set(rates[0])
    assert sum(row["builds"] for row in rates) == 7

    durations = get(api, "build-durations", period=7).json()
    assert {"date", "avgDuration", "minDuration", "maxDuration"} <= set(
        durations["buildDurations"][0]
    )
    assert durations["summary"] == {
        "builds": 7,
        "fastest": 20.0,
        "average": 94.3,
        "slowest": 300.0,
        "p50": 60.0,
        "p95": 246.0,
    }

    usage = get(api, "resource-usage", period=7).json()
    resources = {row["name"]: row for row in usage["resourceUsage"]}
    assert list(resources) == ["CPU", "Memory", "Storage", "Network"]  # the client's order
    assert resources["Storage"] == {
        "name": "Storage",
        "value": 20.0,
        "used": 400,
        "total": 2000,
        "unit": "bytes",
    }
    assert resources["CPU"]["used"] == 530.5 and resources["CPU"]["unit"] == "cpu-seconds"
    assert [(site["name"], site["buildCpuSeconds"]) for site in usage["sites"]] == [
        ("Alpha", 130.0),
        ("Beta", 250.0),
    ]

    status = get(api, "deployment-status", period=7).json()["deploymentStatus"]
    assert status[:3] == [
        {"name": "Success", "value": 4},
        {"name": "Failed", "value": 3},
        {"name": "Cancelled", "value": 1},
    ]

    hourly = get(api, "hourly-deployments", period=7).json()["hourlyDeployments"]
    assert hourly[0] == {"hour": "00:00", "deployments": 2}
    assert sum(row["deployments"] for row in hourly) == 9

    dora = get(api, "dora", period=7).json()["dora"]
    assert dora["changeFailureRate"] == 42.9
    assert dora["timeToRestore"] == 49500.0
    assert dora["buildDurationP95"] == 246.0

    traffic = get(api, "traffic", period=7).json()["traffic"]
    assert (traffic["requests"], traffic["bytes"]) == (22, 4500)
    assert [site["name"] for site in traffic["sites"]] == ["Beta", "Alpha"]
    alpha = traffic["sites"][1]
    assert (alpha["success"], alpha["redirects"], alpha["clientErrors"], alpha["serverErrors"]) == (
        11,
        2,
        1,
        1,
    )
    first_day = traffic["days"][0]
    assert (first_day["requests"], first_day["success"], first_day["redirects"]) == (10, 7, 2)
    assert traffic["statusCodes"][2] == {"status": 304, "statusClass": "3xx", "requests": 2}
    assert traffic["topPaths"][0] == {
        "siteId": str(history.sites["A"].pk),
        "site": "Alpha",
        "path": "/",
        "requests": 9,
        "bytes": 1100,
    }


def test_another_teams_history_never_appears(history, bob):
    """Bob sees his own site's two builds and traffic, nothing of Alice's; Alice's figures
    above leave his out; and naming Alice's site answers 404."""
    client = bearer_client(bob)
    assert get(client, "metrics", period=7).json()["metrics"]["totalDeployments"] == 2
    traffic = get(client, "traffic", period=7).json()["traffic"]
    assert [site["name"] for site in traffic["sites"]] == ["Charlie's"]
    assert [row["path"] for row in traffic["topPaths"]] == ["/charlie"]
    assert traffic["statusCodes"] == [{"status": 200, "statusClass": "2xx", "requests": 77}]
    answer = get(client, "metrics", site=history.sites["A"].pk)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "SITE_NOT_FOUND"
    answer = get(client, "dora", project=uuid.uuid4())
    assert answer.json()["error"]["code"] == "PROJECT_NOT_FOUND"


def test_site_filter(api, history):
    answer = get(api, "deployment-status", period=7, site=history.sites["B"].pk).json()
    assert answer["deploymentStatus"][:2] == [
        {"name": "Success", "value": 1},
        {"name": "Failed", "value": 1},
    ]


def test_periods(api, history):
    assert len(get(api, "deployment-frequency").json()["deploymentFrequency"]) == 30
    assert len(get(api, "deployment-frequency", period="90d").json()["deploymentFrequency"]) == 90
    answer = get(api, "metrics", period=14)
    assert answer.status_code == 422
    assert answer.json()["error"]["details"] == {"period": ["Choose 7, 30 or 90 (days)."]}
    assert get(api, "metrics", site="not-an-id").status_code == 422


def test_signed_out_callers_are_refused(anon_api):
    answer = get(anon_api, "metrics")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHORIZED"


def _add_deployments(site, count: int) -> None:
    now = timezone.now()
    statuses = ["success", "failed", "success", "cancelled"]
    Deployment.objects.bulk_create(
        Deployment(
            site=site,
            source=Deployment.Source.GIT,
            status=statuses[n % 4],
            created_at=now - timedelta(minutes=13 * n % (60 * 24 * 80)),
            finished_at=now - timedelta(minutes=13 * n % (60 * 24 * 80)) + timedelta(seconds=90),
            build_duration=30 + n % 200,
        )
        for n in range(count)
    )


def _queries(client) -> dict[str, int]:
    get(client, "metrics")  # the token's first use of the minute is stamped on it: not counted
    counts = {}
    for name in ENDPOINTS:
        with CaptureQueriesContext(connection) as captured:
            assert get(client, name, period=90).status_code == 200
        counts[name] = len(captured)
    return counts


def test_queries_do_not_grow_with_the_history(api, alice, django_assert_max_num_queries):
    from hosting.services import site_create

    site = site_create(owner=alice, name="Busy")
    other = site_create(owner=alice, name="Quiet")
    _add_deployments(site, 100)
    at_100 = _queries(api)
    _add_deployments(other, 9900)
    assert Deployment.objects.count() == 10_000
    at_10000 = _queries(api)
    assert at_10000 == at_100
    for name in ENDPOINTS:
        with django_assert_max_num_queries(max(at_100.values())):
            get(api, name, period=90)
