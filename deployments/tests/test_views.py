"""The HTML pages: wizard, list, detail, project settings, dashboard, GitHub settings tab."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import strip_tags

from deployments import builds
from deployments.models import Deployment, GitHubConnection, Project
from deployments.services import deployment_publish
from deployments.tests.factories import STATIC_SITE, files, make_branch, make_repo, make_site

pytestmark = pytest.mark.django_db


def git_deployment(owner, *, status="success", minutes_ago=0, seconds=60, name="app"):
    site = make_site(owner, name=name)
    created = timezone.now() - timedelta(minutes=minutes_ago)
    return Deployment.objects.create(
        site=site,
        author=owner,
        source="git",
        status=status,
        branch="main",
        commit_hash="a7f8c9d" + "0" * 33,
        commit_author="john.doe",
        created_at=created,
        started_at=created,
        finished_at=created + timedelta(seconds=seconds) if status != "building" else None,
    )


def test_wizard_creates_the_project_site_and_a_queued_build(web, alice, tmp_path):
    repo = make_repo(tmp_path / "blog", STATIC_SITE)
    page = web.get("/deploy/")
    assert page.status_code == 200 and b"Select repository" in page.content
    response = web.post(
        "/deploy/",
        {
            "repository": f"file://{repo}",
            "branch": "main",
            "build_command": "./build.sh",
            "output_dir": "dist",
            "env_vars": "TOKEN=abc123",
            "auto_deploy": "on",
        },
    )
    deployment = Deployment.objects.get()
    assert response.status_code == 302 and response.url == f"/deployments/{deployment.pk}/"
    assert deployment.status == "queued" and deployment.site.name == "blog"
    project = Project.objects.get()
    assert project.build_command == "./build.sh" and project.auto_deploy
    detail = web.get(response.url)
    assert b"blog" in detail.content and b"Waiting for the build to start" in detail.content
    assert b"abc123" not in detail.content


@pytest.mark.parametrize(
    "repository,message",
    [
        ("-uhttps://evil", b"Enter an https:// git URL"),
        ("ssh://git@example.com/x.git", b"Only https:// repository URLs"),
        ("my-app", b"Connect GitHub to deploy"),
    ],
)
def test_wizard_refuses_bad_repositories(web, repository, message):
    response = web.post("/deploy/", {"repository": repository, "branch": "main"})
    assert response.status_code == 422 and message in response.content
    assert not Deployment.objects.exists()


def test_list_searches_filters_and_paginates(web, alice, bob):
    for i in range(12):
        git_deployment(alice, name=f"shop-{i}", status="failed" if i % 3 == 0 else "success")
    git_deployment(bob, name="bobs-secret")
    page = web.get("/deployments/")
    assert page.status_code == 200
    assert page.content.count(b"data-deployment=") == 10 and b"bobs-secret" not in page.content
    assert b"Page 1 of 2" in page.content
    failed = web.get("/deployments/?status=failed")
    assert failed.content.count(b"data-deployment=") == 4
    search = web.get("/deployments/?search=shop-11")
    assert search.content.count(b"data-deployment=") == 1
    empty = web.get("/deployments/?search=nothing-like-this")
    assert b"No deployments match" in empty.content


def test_detail_is_only_for_the_owner(web, client, bob, alice):
    deployment = git_deployment(alice)
    assert web.get(f"/deployments/{deployment.pk}/").status_code == 200
    client.force_login(bob)
    assert client.get(f"/deployments/{deployment.pk}/").status_code == 404
    assert client.post(f"/deployments/{deployment.pk}/cancel/").status_code == 404


def test_uploads_show_in_the_list_and_detail_without_git_fields(web, alice):
    site = make_site(alice, name="Uploaded")
    deployment = deployment_publish(
        site=site, files=files({"index.html": b"hi"}), source="upload", author=alice
    )
    assert b"Uploaded" in web.get("/deployments/").content
    page = web.get(f"/deployments/{deployment.pk}/")
    assert page.status_code == 200 and b"Visit Site" in page.content
    assert b"Redeploy" not in page.content


def test_project_settings_keep_secret_values_hidden(web, alice, tmp_path):
    repo = make_branch(make_repo(tmp_path / "proj", STATIC_SITE), "release", {"x.txt": "x"})
    deployment = builds.deployment_create(
        user=alice, repository=str(repo), env_vars="API_KEY=very-secret-1"
    )
    project = deployment.project
    page = web.get(f"/projects/{project.pk}/")
    assert b"API_KEY" in page.content and b"very-secret-1" not in page.content
    assert project.webhook_secret.encode() in page.content
    # What the browser shows: help text is HTML, so an address pattern must not read as tags.
    shown = " ".join(strip_tags(page.content.decode()).split())
    assert "build a preview at its own address (branch--site address)" in shown
    response = web.post(
        f"/projects/{project.pk}/",
        {"branch": "release", "build_command": "make", "output_dir": "out", "auto_deploy": ""},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.branch, project.build_command, project.output_dir) == ("release", "make", "out")
    assert not project.auto_deploy and "very-secret-1" in project.env_vars  # kept


def test_dashboard_stats_are_computed_with_constant_queries(
    web, alice, django_assert_max_num_queries
):
    def load():
        with django_assert_max_num_queries(14):
            return web.get("/dashboard/")

    first = load()
    assert b"No deployments yet" in first.content and b"Connect GitHub" in first.content
    assert b"vs last month" not in first.content  # nothing to compare yet
    git_deployment(alice, name="a", seconds=120)
    git_deployment(alice, name="b", status="failed", minutes_ago=60 * 24 * 3)
    for i in range(20):
        git_deployment(alice, name=f"c{i}", seconds=60, minutes_ago=60 * 24 * 40)
    page = load()
    stats = page.context["stats"]
    assert stats["totalDeployments"] == 22
    assert stats["weeklyChange"] == "+2" and stats["todayDeployments"] == 1
    assert stats["successRate"] == 50 and stats["monthlySuccessChange"] == -50
    assert stats["avgDeployTime"] == "2.0m" and stats["timeImprovement"] == "+60s"
    assert len(page.context["recent_deployments"]) == 5


def test_github_tab_shows_the_connection_and_disconnects(web, alice):
    GitHubConnection.objects.create(user=alice, github_username="octo", access_token="gho_x")
    page = web.get("/settings/github/")
    assert b"octo" in page.content and b"Disconnect" in page.content
    response = web.post("/github/disconnect/", {"next": "/settings/github/"})
    assert response.status_code == 302 and not GitHubConnection.objects.exists()
    assert b"Not connected" in web.get("/settings/github/").content


def test_admin_lists_and_cancels_through_the_service(client, operator, alice, tmp_path):
    repo = make_repo(tmp_path / "adm", STATIC_SITE)
    deployment = builds.deployment_create(user=alice, repository=str(repo))
    client.force_login(operator)
    for url in (
        "/admin/deployments/deployment/",
        f"/admin/deployments/deployment/{deployment.pk}/change/",
        "/admin/deployments/project/",
        "/admin/deployments/githubconnection/",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(
        "/admin/deployments/deployment/",
        {"action": "cancel", "_selected_action": [str(deployment.pk)]},
    )
    assert response.status_code == 302
    assert Deployment.objects.get(pk=deployment.pk).status == "cancelled"


def test_cancel_redeploy_and_delete_from_the_page(web, alice, tmp_path):
    repo = make_repo(tmp_path / "page", STATIC_SITE)
    deployment = builds.deployment_create(user=alice, repository=str(repo))
    page = web.get(f"/deployments/{deployment.pk}/").content
    assert b"data-cancel" in page and b"data-redeploy" not in page
    response = web.post(f"/deployments/{deployment.pk}/cancel/")
    assert response.status_code == 302
    assert Deployment.objects.get(pk=deployment.pk).status == "cancelled"
    page = web.get(f"/deployments/{deployment.pk}/").content
    assert b"Cancelled" in page and b"data-redeploy" in page
    response = web.post(f"/deployments/{deployment.pk}/redeploy/")
    new = Deployment.objects.exclude(pk=deployment.pk).get()
    assert response.url == f"/deployments/{new.pk}/" and new.status == "queued"
    assert web.post(f"/deployments/{deployment.pk}/delete/").url == "/deployments/"
    assert not Deployment.objects.filter(pk=deployment.pk).exists()
    text = web.get(f"/deployments/{new.pk}/log.txt")
    assert text["Content-Type"].startswith("text/plain")


def test_list_page_query_count_is_constant(web, alice, django_assert_max_num_queries):
    git_deployment(alice, name="first")
    with django_assert_max_num_queries(12):
        web.get("/deployments/")
    for i in range(20):  # more than a page, within the Free plan's 25 sites
        git_deployment(alice, name=f"more-{i}")
    with django_assert_max_num_queries(12):
        assert web.get("/deployments/").content.count(b"data-deployment=") == 10
