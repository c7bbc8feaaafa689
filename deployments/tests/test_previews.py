"""Branch previews: a push to a preview branch builds at ``<branch>--<slug>`` and never
touches production; a push to any other branch builds nothing."""

from __future__ import annotations

import subprocess

import pytest

from deployments.models import Deployment
from deployments.tests.factories import STATIC_SITE, head, make_repo
from deployments.tests.test_pipeline import deploy, final, logs
from hosting.models import Site
from hosting.serving.app import HostRouter
from hosting.tests.serving_support import asgi_get

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


async def django_stub(scope, receive, send):
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


def test_a_push_to_a_preview_branch_builds_a_preview_and_leaves_production(
    api, client, worker, tmp_path, settings
):
    from deployments.tests.test_github import deliver, push, signature

    settings.VAR_DIR = tmp_path / "var"
    repo = make_repo(tmp_path / "previewed", STATIC_SITE)
    production = final(deploy(api, repo, repository=repo.as_uri())["id"])
    assert production.status == "success", logs(production.pk)
    project = production.project
    project.preview_branches = "feature/*"
    project.save(update_fields=["preview_branches"])
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", "feature/New-Look"], check=True)
    make_repo(repo, {"index.html": "<h1>new look</h1>"}, message="New look")

    ignored = push(project.clone_url, branch="experiment")
    answer = deliver(client, ignored, signature(project.webhook_secret, ignored))
    assert answer.status_code == 200 and answer.json()["deployments"] == []

    body = push(project.clone_url, branch="feature/New-Look")
    answer = deliver(client, body, signature(project.webhook_secret, body))
    assert answer.status_code == 202
    preview = final(answer.json()["deployments"][0])
    assert preview.status == "success", (preview.error, logs(preview.pk))
    assert preview.preview == "feature-new-look" and preview.commit_hash == head(repo)
    assert preview.branch == "feature/New-Look"
    site = Site.objects.get(pk=production.site_id)
    assert site.live_deployment_id == production.pk  # production untouched
    assert any(line.startswith("Published") and "Preview at" in line for line in logs(preview.pk))

    router = HostRouter(django_stub)
    slug = site.slug
    assert b"new look" in asgi_get(router, f"feature-new-look--{slug}.localhost", "/").body
    assert b"new look" not in asgi_get(router, f"{slug}.localhost", "/").body
    detail = api.get(f"/api/deployments/{preview.pk}").json()
    assert detail["previewUrl"].startswith(f"http://feature-new-look--{slug}.")
    assert detail["live"] is False
    assert Deployment.objects.get(pk=production.pk).preview == ""
