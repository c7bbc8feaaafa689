"""The deploy wizard knows the repository: its branches with the default preselected, an
unknown branch refused before anything is created, the framework detected from its files; and
what "Redeploy" and "Deploy latest" build."""

from __future__ import annotations

import pytest

from deployments import builds
from deployments.models import Deployment, Project
from deployments.tests.factories import STATIC_SITE, VITE_APP, head, make_branch, make_repo
from hosting.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def master_repo(tmp_path):
    """A repository whose only branch is master (the case that once defaulted to main)."""
    return make_repo(tmp_path / "old-site", VITE_APP, branch="master")


def test_branches_of_any_git_url_with_the_default_first(api, tmp_path):
    repo = make_repo(tmp_path / "site", STATIC_SITE, branch="master")
    make_branch(repo, "gh-pages", {"index.html": "<h1>pages</h1>"})
    body = api.get("/api/repositories/branches", {"repository": repo.as_uri()}).json()
    assert body["defaultBranch"] == "master" and body["name"] == "site"
    assert [b["name"] for b in body["branches"]] == ["master", "gh-pages"]
    assert body["branches"][0]["commit"] == head(repo)


def test_an_unreachable_repository_is_a_clear_422(api, tmp_path):
    response = api.get("/api/repositories/branches", {"repository": (tmp_path / "nope").as_uri()})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "Could not read the repository" in error["message"]
    assert "does not appear to be a git repository" in error["message"]
    bad = api.get("/api/repositories/branches", {"repository": "ssh://git@example.com/x.git"})
    assert bad.status_code == 422 and "https://" in bad.json()["error"]["message"]


def test_detection_on_the_default_branch_before_anything_is_created(api, master_repo):
    body = api.get("/api/repositories/detect", {"repository": master_repo.as_uri()}).json()
    assert body == {
        "repository": master_repo.as_uri(),
        "branch": "master",
        "framework": "Vite",
        "installCommand": "npm install",
        "buildCommand": "npm run build",
        "outputDir": "dist",
        "note": "",
    }
    assert not Project.objects.exists() and not Site.objects.exists()


def test_detection_of_an_unknown_branch_names_the_branches(api, master_repo):
    response = api.get(
        "/api/repositories/detect", {"repository": master_repo.as_uri(), "branch": "main"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["branch"] == [
        f"There is no branch “main” in {master_repo.as_uri()}. Its branches: master."
    ]


def test_api_refuses_an_unknown_branch_before_creating_anything(api, master_repo):
    response = api.post(
        "/api/deployments", {"repository": master_repo.as_uri(), "branch": "main"}, format="json"
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert "no branch “main”" in error["message"] and "Its branches: master." in error["message"]
    assert not Deployment.objects.exists()
    assert not Project.objects.exists() and not Site.objects.exists()


def test_api_without_a_branch_builds_the_default_one(api, master_repo):
    response = api.post("/api/deployments", {"repository": master_repo.as_uri()}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["branch"] == "master"
    project = Project.objects.get()
    assert project.branch == "master"
    # Left empty, the commands and output directory are detected at build time.
    assert (project.install_command, project.build_command, project.output_dir) == ("", "", "")


def test_wizard_form_refuses_an_unknown_branch_on_the_branch_field(web, master_repo):
    response = web.post("/deploy/", {"repository": master_repo.as_uri(), "branch": "main"})
    assert response.status_code == 422
    assert "There is no branch “main”" in response.content.decode()
    assert "Its branches: master." in response.content.decode()
    assert not Project.objects.exists() and not Site.objects.exists()


def test_wizard_says_deploying_a_known_repository_again_changes_its_project(
    web, alice, master_repo
):
    builds.deployment_create(user=alice, repository=str(master_repo), output_dir="dist")
    page = web.get("/deploy/").content.decode()
    assert "saves these settings to its project" in " ".join(page.split())
    response = web.post(
        "/deploy/", {"repository": str(master_repo), "branch": "master", "output_dir": "out"}
    )
    assert response.status_code == 302
    assert Project.objects.get().output_dir == "out"  # as the page said: one project, updated
    assert Site.objects.count() == 1


def test_wizard_form_without_javascript_takes_the_default_branch(web, master_repo):
    response = web.post("/deploy/", {"repository": master_repo.as_uri(), "auto_deploy": "on"})
    assert response.status_code == 302
    assert Deployment.objects.get().branch == "master"


def test_changing_the_project_branch_to_an_unknown_one_is_refused(web, alice, master_repo):
    make_branch(master_repo, "next", {"index.html": "<h1>next</h1>"})
    deployment = builds.deployment_create(user=alice, repository=master_repo.as_uri())
    project = deployment.project
    form = {"branch": "main", "install_command": "", "build_command": "", "output_dir": ""}
    refused = web.post(f"/projects/{project.pk}/", form)
    assert refused.status_code == 422 and "Its branches: master, next." in refused.content.decode()
    saved = web.post(f"/projects/{project.pk}/", {**form, "branch": "next"}, follow=True)
    assert "Deploy latest” builds the head of next" in saved.content.decode()
    project.refresh_from_db()
    assert project.branch == "next"


def test_redeploy_repeats_the_commit_and_deploy_latest_takes_the_branch(api, alice, master_repo):
    make_branch(master_repo, "next", {"index.html": "<h1>next</h1>"})
    first = builds.deployment_create(user=alice, repository=master_repo.as_uri())
    Deployment.objects.filter(pk=first.pk).update(
        status="success", commit_hash=head(master_repo), commit_message="Initial"
    )
    first.refresh_from_db()
    project = first.project
    project.branch = "next"
    project.save()

    again = api.post(f"/api/deployments/{first.pk}/redeploy").json()
    assert (again["branch"], again["commitHash"]) == ("master", head(master_repo))
    assert Deployment.objects.get(pk=again["id"]).redeploy_of_id == first.pk

    latest = api.post(f"/api/projects/{project.pk}/deploy")
    assert latest.status_code == 201
    assert (latest.json()["branch"], latest.json()["commitHash"]) == ("next", "")
    by_site = api.post(f"/api/sites/{project.site_id}/deploy-latest")
    assert by_site.status_code == 201 and by_site.json()["branch"] == "next"


def test_redeploying_a_build_that_never_cloned_builds_the_current_branch(alice, master_repo):
    failed = builds.deployment_create(user=alice, repository=master_repo.as_uri())
    Deployment.objects.filter(pk=failed.pk).update(status="failed", branch="main")
    failed.refresh_from_db()
    again = builds.deployment_redeploy(deployment=failed)
    assert again.branch == "master" and again.redeploy_of_id is None


def test_deploy_latest_is_the_owners_only(bob, master_repo, alice):
    from conftest import bearer_client

    project = builds.deployment_create(user=alice, repository=master_repo.as_uri()).project
    other = bearer_client(bob)
    assert other.post(f"/api/projects/{project.pk}/deploy").status_code == 404
    assert other.post(f"/api/sites/{project.site_id}/deploy-latest").status_code == 404
