"""Every figure of the analytics equals the one worked out by hand from analytics/tests/fixtures.py
(a 7-day window ending on Wednesday 18 March 2026, 18:00 UTC)."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import selectors
from analytics.tests.fixtures import at, build_history

pytestmark = pytest.mark.django_db

LAST_DAY = date(2026, 3, 18)


@pytest.fixture
def history(alice, bob):
    return build_history(alice, bob, LAST_DAY)


@pytest.fixture
def scope(history):
    return selectors.Scope(team=history.team, days=7, now=at(LAST_DAY, "18:00"))


def test_key_metrics_and_their_change_against_the_week_before(scope):
    assert selectors.metrics(scope) == {
        "total_deployments": 9,  # d1…d9; p1, p2 are the week before, o1 too old
        "deployments_change": 350.0,  # 9 against 2
        "success_rate": 57.1,  # 4 of 7 finished builds (the cancelled one is neither)
        "success_change": 7.1,  # 57.1 % against 50.0 %: points
        "avg_build_seconds": 94.3,  # (60+30+40+90+120+20+300) / 7
        "avg_build_time": "1m 34s",
        "build_time_change": 25.7,  # 94.29 against (100+50)/2
        "active_projects": 2,  # sites A and B
        "projects_change": 100.0,  # 2 against 1
    }


def test_deployments_per_day_including_quiet_days(scope):
    rows = selectors.deployment_frequency(scope)
    assert [row["day"].day for row in rows] == [12, 13, 14, 15, 16, 17, 18]
    assert [row["deployments"] for row in rows] == [1, 3, 0, 0, 2, 1, 2]
    assert [row["successful"] for row in rows] == [1, 1, 0, 0, 0, 1, 1]


def test_weekly_success_rates(scope):
    rows = selectors.success_rates(scope)
    assert [(row["label"], row["week_start"]) for row in rows] == [
        ("Week 1", date(2026, 3, 9)),
        ("Week 2", date(2026, 3, 16)),
    ]
    # Week 1 (from Thursday 12th): d1 ✓ d2 ✗ d3 ✗ d4 ✓. Week 2: d6 ✓ d7 ✗ d8 ✓ (d5 cancelled,
    # d9 still building).
    assert [(row["success"], row["failed"], row["builds"]) for row in rows] == [
        (50.0, 50.0, 4),
        (66.7, 33.3, 3),
    ]


def test_build_durations_per_day_and_summary(scope):
    rows = selectors.build_durations(scope)
    assert [
        (row["day"].day, row["avg_duration"], row["min_duration"], row["max_duration"])
        for row in rows
    ] == [
        (12, 60, 60, 60),
        (13, 53, 30, 90),  # (30 + 40 + 90) / 3
        (16, 20, 20, 20),
        (17, 300, 300, 300),
        (18, 120, 120, 120),
    ]
    # Sorted: 20 30 40 60 90 120 300. p95 sits at 5.7 of 0…6: 120 + 0.7 × 180.
    assert selectors.build_summary(scope) == {
        "count": 7,
        "fastest": 20.0,
        "average": 94.3,
        "slowest": 300.0,
        "p50": 60.0,
        "p95": 246.0,
    }


def test_status_distribution(scope):
    assert selectors.deployment_status(scope) == [
        {"name": "Success", "value": 4},
        {"name": "Failed", "value": 3},
        {"name": "Cancelled", "value": 1},
        {"name": "In progress", "value": 1},
    ]


def test_hourly_pattern(scope):
    hours = {row["hour"]: row["deployments"] for row in selectors.hourly_deployments(scope)}
    assert len(hours) == 24
    assert {hour: n for hour, n in hours.items() if n} == {
        "00:00": 2,
        "09:00": 2,
        "10:00": 1,
        "11:00": 1,
        "12:00": 1,
        "14:00": 2,
    }


def test_resource_usage_of_the_team(scope, settings):
    settings.MONITORING_HEARTBEAT_INTERVAL = 30  # readings count as "now" for 90 s
    # CPU: site processes 100.5 + 20 + 30 (A L-20 too old) and builds d1 50 + d4 80 + d8 250
    # (p1 the week before), against one core over the window: 6 days and 18 hours.
    # Memory: only A's reading at 17:59 is recent: 70 MiB of the host's 8 GiB.
    # Storage 100 + 300 of 1,000 + 1,000; this month (from 1 March) A and B served
    # 1,000 + 500 + 3,000 bytes of 100,000 + 50,000. Bob's site C counts for nothing.
    assert selectors.resource_usage(scope) == [
        {"name": "CPU", "value": 0.1, "used": 530.5, "total": 583_200, "unit": "cpu-seconds"},
        {
            "name": "Memory",
            "value": 0.9,  # 73,400,320 / 8,589,934,592 = 0.85 %
            "used": 70 * 2**20,
            "total": 8 * 2**30,
            "unit": "bytes",
        },
        {"name": "Storage", "value": 20.0, "used": 400, "total": 2000, "unit": "bytes"},
        {"name": "Network", "value": 3.0, "used": 4500, "total": 150_000, "unit": "bytes"},
    ]


def test_resource_usage_per_site(scope, settings):
    settings.MONITORING_HEARTBEAT_INTERVAL = 30
    mib = 2**20
    assert selectors.resource_sites(scope) == [
        {
            "site_id": scope.team.sites.get(name="Alpha").pk,
            "name": "Alpha",
            "process_cpu_seconds": 120.5,
            "memory": 70 * mib,
            "memory_peak": 90 * mib,
            "build_cpu_seconds": 130.0,
            "build_memory_peak": 300 * mib,
            "builds": 2,
        },
        {
            "site_id": scope.team.sites.get(name="Beta").pk,
            "name": "Beta",
            "process_cpu_seconds": 30.0,
            "memory": 0,  # its pool was last read days ago: not running now
            "memory_peak": 40 * mib,
            "build_cpu_seconds": 250.0,
            "build_memory_peak": 500 * mib,
            "builds": 1,
        },
    ]


def test_dora_figures(scope):
    # Restores: d2 (after the success d1) to d4 finishing: 10:16 -> 13:16 = 3 h; d7 (B's first)
    # to d8 finishing the next day: 14:21 -> 14:51 a day later = 24.5 h; d3 follows a failure:
    # the same incident as d2.
    assert selectors.dora(scope) == {
        "deploys_per_day": 0.57,  # 4 successes in 7 days
        "deploys_per_week": 4.0,
        "successful_deploys": 4,
        "change_failure_rate": 42.9,  # 3 of 7
        "failed_deploys": 3,
        "time_to_restore_seconds": 49500.0,  # (10,800 + 88,200) / 2
        "restores": 2,
        "build_p50_seconds": 60.0,
        "build_p95_seconds": 246.0,
    }


def test_traffic_per_day_and_per_site(scope, history):
    traffic = selectors.traffic(scope)
    assert (traffic["requests"], traffic["bytes"]) == (22, 4500)
    assert [(day["day"].day, day["requests"], day["bytes"]) for day in traffic["days"]] == [
        (12, 10, 1000),
        (13, 0, 0),
        (14, 0, 0),
        (15, 7, 3000),
        (16, 0, 0),
        (17, 0, 0),
        (18, 5, 500),
    ]
    assert [(row["name"], row["requests"], row["bytes"]) for row in traffic["sites"]] == [
        ("Beta", 7, 3000),
        ("Alpha", 15, 1500),
    ]


def classes(row) -> tuple[int, int, int, int]:
    return row["2xx"], row["3xx"], row["4xx"], row["5xx"]


def test_status_codes_per_day_per_site_and_in_all(scope):
    traffic = selectors.traffic(scope)
    assert {day["day"].day: classes(day) for day in traffic["days"]} == {
        12: (7, 2, 1, 0),  # A: 200 ×7, 304 ×2, 404
        13: (0, 0, 0, 0),
        14: (0, 0, 0, 0),
        15: (5, 1, 1, 0),  # B: 200 ×5, 301, 404
        16: (0, 0, 0, 0),
        17: (0, 0, 0, 0),
        18: (4, 0, 0, 1),  # A: 200 ×4, 500
    }
    assert {row["name"]: classes(row) for row in traffic["sites"]} == {
        "Beta": (5, 1, 1, 0),
        "Alpha": (11, 2, 1, 1),  # A L-20 is outside the window; Bob's C is not the team's
    }
    assert traffic["statuses"] == [
        {"status": 200, "class": "2xx", "requests": 16},
        {"status": 301, "class": "3xx", "requests": 1},
        {"status": 304, "class": "3xx", "requests": 2},
        {"status": 404, "class": "4xx", "requests": 2},
        {"status": 500, "class": "5xx", "requests": 1},
    ]


def test_top_paths_of_the_window(scope, history):
    # "/" of Alpha: 6 + 3 requests, 800 + 300 bytes; the "other paths" row is not a path.
    assert [
        (row["site"], row["path"], row["requests"], row["bytes"])
        for row in selectors.traffic(scope)["paths"]
    ] == [
        ("Alpha", "/", 9, 1100),
        ("Alpha", "/about", 5, 400),
        ("Beta", "/", 4, 2000),
        ("Beta", "/blog", 3, 1000),
    ]
    beta = selectors.Scope(team=history.team, days=7, site=history.sites["B"], now=scope.now)
    assert [row["path"] for row in selectors.traffic(beta)["paths"]] == ["/", "/blog"]


def test_one_site_or_a_project_narrows_every_figure(history, scope):
    beta = selectors.scope_for(
        team=history.team, days=7, site_id=history.sites["B"].pk, now=scope.now
    )
    assert selectors.metrics(beta)["total_deployments"] == 3  # d7, d8, d9
    assert selectors.time_to_restore(beta) == {"count": 1, "average": 88200.0}
    assert selectors.traffic(beta)["bytes"] == 3000
    from deployments.models import Project

    project = Project.objects.create(
        team=history.team,
        site=history.sites["A"],
        name="alpha",
        repository="https://git.example.org/acme/alpha",
        clone_url="https://git.example.org/acme/alpha.git",
    )
    alpha = selectors.scope_for(team=history.team, days=7, project_id=project.pk, now=scope.now)
    assert alpha.site == history.sites["A"]
    assert selectors.metrics(alpha)["total_deployments"] == 6  # d1…d6


def test_another_teams_site_or_project_is_not_found(history):
    with pytest.raises(selectors.ScopeError) as caught:
        selectors.scope_for(team=history.team, site_id=history.sites["C"].pk)
    assert caught.value.field == "site"


def test_the_longer_windows(history, scope):
    month = selectors.Scope(team=history.team, days=30, now=scope.now)
    assert selectors.metrics(month)["total_deployments"] == 11  # with p1 and p2
    assert len(selectors.deployment_frequency(month)) == 30
    quarter = selectors.Scope(team=history.team, days=90, now=scope.now)
    assert selectors.metrics(quarter)["total_deployments"] == 12  # o1 too
    assert len(selectors.deployment_frequency(quarter)) == 90


def test_an_empty_team_has_empty_figures(charlie):
    from teams.services import acting_team

    empty = selectors.Scope(team=acting_team(charlie), days=30)
    metrics = selectors.metrics(empty)
    assert metrics["total_deployments"] == 0
    assert metrics["success_rate"] is None and metrics["avg_build_time"] == "—"
    assert selectors.build_summary(empty)["p95"] is None
    assert selectors.dora(empty)["time_to_restore_seconds"] is None
    assert selectors.traffic(empty)["requests"] == 0
