"""The Autostack client's deployment endpoints and shapes, scoped to their owner."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import bearer_client
from deployments import builds
from deployments.logs import LogWriter
from deployments.models import Deployment, Project
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.test_views import git_deployment

pytestmark = pytest.mark.django_db


def with_project(deployment, owner, repository: str, **fields) -> Project:
    """Give ``deployment`` a project of its site's team building ``repository`` from GitHub."""
    deployment.project = Project.objects.create(
        team=deployment.site.team,
        owner=owner,
        site=deployment.site,
        name=repository.split("/")[-1],
        repository=repository,
        clone_url=f"https://github.com/{repository}.git",
        **fields,
    )
    return deployment.project


def test_create_answers_the_queued_deployment_with_its_site_url(api, alice, tmp_path, settings):
    repo = make_repo(tmp_path / "my-awesome-app", STATIC_SITE)
    response = api.post(
        "/api/deployments",
        {
            "repository": str(repo),
            "branch": "main",
            "buildCommand": "npm run build",
            "outputDir": "dist",
            "envVars": "NODE_ENV=production\nAPI_URL=https://api.example.com",
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["repo"] == "my-awesome-app" and body["status"] == "queued"
    assert body["url"] == f"http://my-awesome-app.{settings.SITES_DOMAIN}:8000"
    assert [s["name"] for s in body["stages"]] == ["Queued", "Building", "Deploying", "Success"]
    assert body["stages"][0]["status"] == "in_progress"
    assert body["project"]["envVars"] == {"API_URL": "••••••", "NODE_ENV": "••••••"}
    # The second deployment of the repository reuses its project and site.
    again = api.post("/api/deployments", {"repository": str(repo)}, format="json").json()
    assert again["siteId"] == body["siteId"] and again["projectId"] == body["projectId"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"repository": ""}, "repository"),
        ({"repository": "--upload-pack=touch /tmp/x"}, "repository"),
        ({"repository": "file:///x", "branch": "-b"}, "branch"),
        ({"repository": "file:///x", "outputDir": "../../etc"}, "outputDir"),
        ({"repository": "file:///x", "envVars": "not a variable"}, "envVars"),
        ({"repository": "file:///x", "envVars": "PATH=/evil"}, "envVars"),
        ({"repository": "http://plain.example.com/x.git"}, "repository"),
    ],
)
def test_create_validates_every_input(api, body, field):
    response = api.post("/api/deployments", body, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json()["error"]["details"]
    assert not Deployment.objects.exists()


def test_local_repositories_can_be_turned_off(api, settings):
    settings.BUILD_ALLOW_LOCAL_REPOSITORIES = False
    response = api.post("/api/deployments", {"repository": "file:///srv/x"}, format="json")
    assert response.status_code == 422


def test_creation_is_limited_to_ten_an_hour(api, tmp_path):
    repo = make_repo(tmp_path / "r", STATIC_SITE)
    for _ in range(10):
        assert (
            api.post("/api/deployments", {"repository": str(repo)}, format="json").status_code
            == 201
        )
    response = api.post("/api/deployments", {"repository": str(repo)}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"


def test_list_shape_filters_and_pagination(api, alice, bob):
    for i in range(13):
        git_deployment(alice, name=f"app-{i}", status="failed" if i < 3 else "success")
    git_deployment(bob, name="not-yours")
    body = api.get("/api/deployments?limit=5&page=2").json()
    assert body["pagination"] == {"currentPage": 2, "totalPages": 3, "totalItems": 13, "limit": 5}
    row = body["deployments"][0]
    assert set(row) >= {
        "id",
        "repo",
        "branch",
        "status",
        "author",
        "commit",
        "duration",
        "timestamp",
        "url",
    }
    assert row["commit"] == "a7f8c9d" and row["author"] == "john.doe" and row["duration"] == "1m 0s"
    assert api.get("/api/deployments?status=failed").json()["pagination"]["totalItems"] == 3
    assert api.get("/api/deployments?status=all").json()["pagination"]["totalItems"] == 13
    assert api.get("/api/deployments?search=app-12").json()["pagination"]["totalItems"] == 1
    assert api.get("/api/deployments?status=bogus").status_code == 422


def test_search_matches_site_repository_branch_and_commit_of_your_teams_only(api, alice, bob):
    by_site = git_deployment(alice, name="harbour-shop")
    by_repo = git_deployment(alice, name="plain")
    with_project(by_repo, alice, "acme/storefront")
    by_repo.save()
    by_branch = git_deployment(alice, name="other")
    Deployment.objects.filter(pk=by_branch.pk).update(branch="feature/checkout")
    by_commit = git_deployment(alice, name="fourth")
    Deployment.objects.filter(pk=by_commit.pk).update(commit_hash="beef" + "1" * 36)
    git_deployment(bob, name="harbour-of-bob")

    def found(term):
        return {
            row["id"] for row in api.get(f"/api/deployments?search={term}").json()["deployments"]
        }

    assert found("HARBOUR") == {str(by_site.pk)}
    assert found("acme/store") == {str(by_repo.pk)}
    assert found("checkout") == {str(by_branch.pk)}
    assert found("BEEF1") == {str(by_commit.pk)}
    assert found("eef1") == set()  # the commit matches from its start only
    assert found("no-such-thing") == set()


def test_list_query_count_is_constant(api, alice, django_assert_max_num_queries):
    for i in range(3):
        git_deployment(alice, name=f"q{i}")
    with django_assert_max_num_queries(6):
        api.get("/api/deployments")
    for i in range(20):
        git_deployment(alice, name=f"r{i}")
    with django_assert_max_num_queries(6):
        assert len(api.get("/api/deployments").json()["deployments"]) == 10


def test_another_users_deployment_is_not_found(api, bob):
    theirs = git_deployment(bob)
    for method, url in (
        ("get", f"/api/deployments/{theirs.pk}"),
        ("get", f"/api/deployments/{theirs.pk}/logs"),
        ("post", f"/api/deployments/{theirs.pk}/cancel"),
        ("post", f"/api/deployments/{theirs.pk}/redeploy"),
        ("delete", f"/api/deployments/{theirs.pk}"),
    ):
        response = getattr(api, method)(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "DEPLOYMENT_NOT_FOUND"
    assert Deployment.objects.filter(pk=theirs.pk, status="success").exists()


def test_logs_are_paginated_and_resumable(api, alice):
    deployment = git_deployment(alice, status="building")
    writer = LogWriter(deployment.pk)
    for i in range(1, 251):
        writer.write(f"line {i}" if i != 7 else "npm ERR! missing script: build")
    writer.flush()
    body = api.get(f"/api/deployments/{deployment.pk}/logs?limit=100&page=3").json()
    assert [line["seq"] for line in body["logs"]] == list(range(201, 251))
    assert body["pagination"]["totalItems"] == 250 and body["status"] == "building"
    assert (
        api.get(f"/api/deployments/{deployment.pk}/logs?after=245").json()["logs"][0]["seq"] == 246
    )
    seventh = api.get(f"/api/deployments/{deployment.pk}/logs?limit=10").json()["logs"][6]
    assert seventh["level"] == "error" and set(seventh) == {"seq", "timestamp", "level", "message"}
    detail = api.get(f"/api/deployments/{deployment.pk}").json()
    assert detail["logCount"] == 250 and detail["logs"][-1].endswith("line 250")
    assert detail["logs"][-1].startswith("[")


def test_cancel_queued_then_delete(api, alice, tmp_path):
    repo = make_repo(tmp_path / "c", STATIC_SITE)
    created = api.post("/api/deployments", {"repository": str(repo)}, format="json").json()
    assert api.delete(f"/api/deployments/{created['id']}").status_code == 409
    cancelled = api.post(f"/api/deployments/{created['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["canCancel"] is False
    assert cancelled["stages"][-1] == {
        "name": "Cancelled",
        "status": "failed",
        "timestamp": cancelled["stages"][-1]["timestamp"],
        "error": "Cancelled.",
    }
    assert api.post(f"/api/deployments/{created['id']}/cancel").status_code == 409
    assert api.delete(f"/api/deployments/{created['id']}").status_code == 204
    assert not Deployment.objects.filter(pk=created["id"]).exists()


def test_live_deployment_cannot_be_deleted(api, alice):
    deployment = git_deployment(alice)
    deployment.site.live_deployment = deployment
    deployment.site.save()
    response = api.delete(f"/api/deployments/{deployment.pk}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "DEPLOYMENT_IN_USE"


def test_redeploy_queues_the_same_commit(api, alice, tmp_path):
    repo = make_repo(tmp_path / "rd", STATIC_SITE)
    first = builds.deployment_create(user=alice, repository=str(repo))
    Deployment.objects.filter(pk=first.pk).update(
        status="success", commit_hash="b" * 40, finished_at=timezone.now()
    )
    response = api.post(f"/api/deployments/{first.pk}/redeploy")
    assert response.status_code == 201
    new = Deployment.objects.get(pk=response.json()["id"])
    assert new.commit_hash == "b" * 40 and new.redeploy_of_id == first.pk and new.status == "queued"


def test_recent_and_dashboard_stats_shapes(api, alice, bob):
    for i in range(7):
        git_deployment(alice, name=f"d{i}")
    git_deployment(bob, name="other")
    recent = api.get("/api/deployments/recent").json()["recentDeployments"]
    assert len(recent) == 5
    assert set(recent[0]) == {
        "id",
        "repo",
        "branch",
        "status",
        "timestamp",
        "duration",
        "author",
        "url",
    }
    body = api.get("/api/dashboard/stats").json()
    assert set(body["stats"]) == {
        "totalDeployments",
        "weeklyChange",
        "activeProjects",
        "todayDeployments",
        "successRate",
        "monthlySuccessChange",
        "avgDeployTime",
        "timeImprovement",
    }
    assert body["stats"]["totalDeployments"] == 7 and body["stats"]["weeklyChange"] == "+7"
    assert body["stats"]["successRate"] == 100 and body["stats"]["avgDeployTime"] == "1.0m"
    assert len(body["recentDeployments"]) == 5 and body["githubConnected"] is False


def test_anonymous_callers_are_refused(anon_api):
    assert anon_api.get("/api/deployments").status_code == 401
    assert anon_api.get("/api/dashboard/stats").status_code == 401


def test_bearer_tokens_of_others_see_nothing(alice, charlie):
    git_deployment(alice)
    assert bearer_client(charlie).get("/api/deployments").json()["deployments"] == []


def test_summaries_answer_as_drf_renders_whole_rows(alice, django_assert_num_queries, settings):
    """The lists read only the summary's columns and serialize them directly: the same JSON
    DRF's own rendering gives of fully loaded rows, in one query for the page."""
    from rest_framework import serializers as drf
    from rest_framework.renderers import JSONRenderer

    from deployments import selectors
    from deployments.api.serializers import DeploymentSummarySerializer
    from teams.services import acting_team

    settings.TIME_ZONE = "Europe/Paris"
    git_deployment(alice, name="built")
    git_deployment(alice, name="broken", status="failed", minutes_ago=5)
    git_deployment(alice, name="running", status="building", minutes_ago=9)
    anonymous = git_deployment(alice, name="upload", minutes_ago=12)
    Deployment.objects.filter(pk=anonymous.pk).update(commit_author="", source="upload")
    previewed = git_deployment(alice, name="preview", minutes_ago=15)
    with_project(previewed, alice, "acme/storefront", env_vars='{"TOKEN": "x"}')
    previewed.preview = "feature-x"
    previewed.save()
    team = acting_team(alice)
    whole = Deployment.objects.filter(site__team=team).select_related("site", "project", "author")
    expected = [
        drf.Serializer.to_representation(DeploymentSummarySerializer(), row)
        for row in whole.order_by("-created_at")
    ]
    for rows in (
        selectors.deployment_list(user=alice, team=team, summary=True),  # prepared
        selectors.deployment_list(user=alice, team=team, search="e", summary=True),
    ):
        with django_assert_num_queries(1):
            page = list(rows[0:10])
            got = DeploymentSummarySerializer(page, many=True).data
        wanted = [row for row in expected if row["id"] in {str(d.pk) for d in page}]
        assert JSONRenderer().render(got) == JSONRenderer().render(wanted)
    assert len(expected) == 5


def test_log_pages_and_stages_answer_as_drf_renders_the_rows(api, alice):
    """Log lines are read as plain rows and stages by a prepared read: the JSON is DRF's
    rendering of the stored lines, and the stages those recorded."""
    from rest_framework import serializers as drf

    from deployments.api.serializers import LogEntrySerializer
    from deployments.models import DeploymentStage, LogLine

    deployment = git_deployment(alice, status="failed")
    DeploymentStage.objects.create(
        deployment=deployment, name="queued", status="completed", completed_at=timezone.now()
    )
    DeploymentStage.objects.create(
        deployment=deployment, name="building", status="failed", error_message="exit 1"
    )
    writer = LogWriter(deployment.pk)
    for i in range(1, 31):
        writer.write(f"line {i}" if i != 7 else "npm ERR! missing script: build")
    writer.flush()
    lines = LogLine.objects.filter(deployment=deployment).order_by("seq")
    rendered = [drf.Serializer.to_representation(LogEntrySerializer(), line) for line in lines]
    for query, expected in (("limit=10&page=2", rendered[10:20]), ("after=25", rendered[25:])):
        with CaptureQueriesContext(connection) as seen:
            body = api.get(f"/api/deployments/{deployment.pk}/logs?{query}").json()
        assert body["logs"] == expected and body["status"] == "failed", query
        read = " ".join(q["sql"] for q in seen.captured_queries)
        assert "deployments_project" not in read and "deploymentstage" not in read
    detail = api.get(f"/api/deployments/{deployment.pk}").json()
    assert [(s["name"], s["status"]) for s in detail["stages"]] == [
        ("Queued", "completed"),
        ("Building", "failed"),
        ("Deploying", "pending"),
        ("Failed", "failed"),
    ]
    assert detail["stages"][1]["error"] == "exit 1" and detail["logCount"] == 30


def test_detail_answers_as_drf_renders_it(alice, settings):
    """The detail (and its project) is serialized directly: the same JSON as DRF's own
    rendering of the same deployment."""
    from rest_framework import serializers as drf
    from rest_framework.renderers import JSONRenderer

    from deployments import selectors
    from deployments.api.serializers import DeploymentDetailSerializer, ProjectSerializer
    from deployments.models import DeploymentStage

    settings.TIME_ZONE = "Asia/Kolkata"
    deployment = git_deployment(alice, status="failed", name="shop")
    with_project(
        deployment,
        alice,
        "acme/shop",
        env_vars='{"TOKEN": "x", "API": "y"}',
        preview_env_vars='{"PREVIEW": "1"}',
        install_command="npm ci",
    )
    deployment.error = "Build failed: exit 1"
    deployment.save()
    DeploymentStage.objects.create(deployment=deployment, name="queued", status="completed")
    writer = LogWriter(deployment.pk)
    for i in range(1, 6):
        writer.write(f"line {i}")
    writer.flush()
    for pk in (deployment.pk, git_deployment(alice, name="bare").pk):
        row = selectors.deployment_get(user=alice, pk=pk)
        expected = drf.Serializer.to_representation(DeploymentDetailSerializer(), row)
        if row.project is not None:
            expected["project"] = drf.Serializer.to_representation(ProjectSerializer(), row.project)
        got = DeploymentDetailSerializer(selectors.deployment_get(user=alice, pk=pk)).data
        assert JSONRenderer().render(got) == JSONRenderer().render(expected)
    assert got["project"] is None and expected["logs"] == []


def test_dashboard_answers_as_drf_renders_it(api, alice):
    from rest_framework import serializers as drf
    from rest_framework.renderers import JSONRenderer

    from deployments import selectors
    from deployments.api.serializers import DashboardSerializer
    from deployments.models import GitHubConnection
    from teams.services import acting_team

    for connected in (False, True):
        if connected:
            GitHubConnection.objects.create(user=alice, github_username="octo", access_token="t")
        git_deployment(alice, name=f"d{connected}")
        git_deployment(alice, name=f"f{connected}", status="failed", minutes_ago=90)
        team = acting_team(alice)
        dashboard = {
            "stats": selectors.dashboard_stats(user=alice, team=team),
            "recentDeployments": selectors.deployment_recent(user=alice, limit=5, team=team),
            "githubConnected": selectors.github_connected(user=alice),
        }
        expected = drf.Serializer.to_representation(DashboardSerializer(), dashboard)
        got = api.get("/api/dashboard/stats")
        assert got.content == JSONRenderer().render(expected)
        assert got.json()["githubConnected"] is connected
