"""Branch previews: a push to a preview branch builds at ``<branch>--<slug>`` and never
touches production; a push to any other branch builds nothing."""

from __future__ import annotations

import subprocess

import pytest

from deployments.models import Deployment
from deployments.projects import project_update
from deployments.tests.conftest import wait_for
from deployments.tests.factories import STATIC_SITE, head, make_repo
from deployments.tests.test_pipeline import deploy, final, logs
from hosting.models import Site
from hosting.serving.app import HostRouter
from hosting.tests.serving_support import asgi_get

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def previews_on(project, branches: str, *, secret: bool = False) -> None:
    """Turn previews on for ``branches``; with ``secret``, a production-only variable and a
    preview one the builds print."""
    project_update(
        project=project,
        branch=project.branch,
        install_command="",
        build_command=project.build_command,
        output_dir=project.output_dir,
        auto_deploy=True,
        env_vars="SECRET=production-only-value" if secret else None,
        preview_branches=branches,
        preview_env_vars="STAGE=preview" if secret else None,
    )


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
    previews_on(project, "feature/*", secret=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", "feature/New-Look"], check=True)
    script = STATIC_SITE["build.sh"] + 'echo "secret=[$SECRET] stage=[$STAGE]" > dist/env.txt\n'
    make_repo(repo, {"index.html": "<h1>new look</h1>", "build.sh": script}, message="New look")

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
    # The preview saw its own variables and never production's.
    seen = asgi_get(router, f"feature-new-look--{slug}.localhost", "/env.txt").body
    assert seen == b"secret=[] stage=[preview]\n"
    detail = api.get(f"/api/deployments/{preview.pk}").json()
    assert detail["previewUrl"].startswith(f"http://feature-new-look--{slug}.")
    assert detail["live"] is False
    assert Deployment.objects.get(pk=production.pk).preview == ""


def pull_request(project, action: str, number: int, sha: str, *, fork: bool) -> bytes:
    import json

    return json.dumps(
        {
            "action": action,
            "number": number,
            "pull_request": {
                "number": number,
                "head": {
                    "ref": "feature/pr",
                    "sha": sha,
                    "repo": {"full_name": "someone/fork" if fork else "octocat/site"},
                },
                "base": {"ref": "main", "repo": {"full_name": "octocat/site"}},
            },
            "repository": {"full_name": "octocat/site", "clone_url": project.clone_url},
        }
    ).encode()


def test_pull_requests_build_previews_without_secrets_from_forks_and_close_removes_them(
    api, client, worker, tmp_path, settings
):
    from deployments.tests.test_github import deliver, signature

    settings.VAR_DIR = tmp_path / "var"
    repo = make_repo(tmp_path / "pulled", STATIC_SITE)
    production = final(deploy(api, repo, repository=repo.as_uri())["id"])
    project = production.project
    previews_on(project, "*", secret=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", "feature/pr"], check=True)
    script = STATIC_SITE["build.sh"] + 'echo "secret=[$SECRET] stage=[$STAGE]" > dist/env.txt\n'
    make_repo(repo, {"index.html": "<h1>pull</h1>", "build.sh": script}, message="PR")
    sha = head(repo)
    router = HostRouter(django_stub)
    slug = production.site.slug

    for number, fork, expected in ((7, False, b"stage=[preview]"), (8, True, b"stage=[]")):
        body = pull_request(project, "opened", number, sha, fork=fork)
        answer = deliver(client, body, signature(project.webhook_secret, body), "pull_request")
        assert answer.status_code in (200, 202), answer.json()
        built = final(answer.json()["deployments"][0])
        assert built.status == "success", (built.error, logs(built.pk))
        assert built.preview == f"pr-{number}" and built.commit_hash == sha
        seen = asgi_get(router, f"pr-{number}--{slug}.localhost", "/env.txt").body
        assert b"secret=[]" in seen and expected in seen  # never production's secret
    assert Site.objects.get(pk=production.site_id).live_deployment_id == production.pk

    body = pull_request(project, "closed", 7, sha, fork=False)
    answer = deliver(client, body, signature(project.webhook_secret, body), "pull_request")
    assert answer.status_code in (200, 202)
    router = HostRouter(django_stub)  # a fresh cache: the address is gone, not just stale
    assert asgi_get(router, f"pr-7--{slug}.localhost", "/").status == 404
    assert asgi_get(router, f"pr-8--{slug}.localhost", "/").status == 200


def test_the_reconciler_removes_previews_whose_branch_is_gone(alice, client, tmp_path, settings):
    from deployments.models import Project
    from deployments.services import deployment_publish
    from deployments.tasks import previews_expire
    from deployments.tests.factories import files, make_site

    settings.VAR_DIR = tmp_path / "var"
    repo = make_repo(tmp_path / "reconciled", STATIC_SITE)
    for branch in ("feature/a", "feature/b"):
        subprocess.run(["git", "-C", str(repo), "branch", branch], check=True)
    site = make_site(alice, slug="recon")
    project = Project.objects.create(
        team=site.team,
        owner=alice,
        site=site,
        name="reconciled",
        repository=repo.as_uri(),
        clone_url=repo.as_uri(),
        preview_branches="*",
        webhook_secret="reconcile-secret",
    )
    deployment_publish(site=site, files=files({"index.html": b"live"}), source="upload")
    for branch, label in (("feature/a", "feature-a"), ("feature/b", "feature-b")):
        built = deployment_publish(
            site=site, files=files({"index.html": label.encode()}), source="upload", activate=False
        )
        Deployment.objects.filter(pk=built.pk).update(preview=label, branch=branch, project=project)
    subprocess.run(["git", "-C", str(repo), "branch", "-D", "feature/a"], check=True)

    previews_expire()  # the hourly task: expiry, then the reconciler
    router = HostRouter(django_stub)
    assert asgi_get(router, "feature-a--recon.localhost", "/").status == 404
    assert asgi_get(router, "feature-b--recon.localhost", "/").body == b"feature-b"
    assert asgi_get(router, "recon.localhost", "/").body == b"live"

    # A delivered branch deletion removes that preview at once.
    import json

    from deployments.tests.test_github import deliver, signature

    body = json.dumps(
        {
            "ref": "refs/heads/feature/b",
            "deleted": True,
            "repository": {"full_name": "octocat/site", "clone_url": repo.as_uri()},
        }
    ).encode()
    project.refresh_from_db()
    answer = deliver(client, body, signature(project.webhook_secret, body))
    assert answer.status_code in (200, 202), answer.json()
    router = HostRouter(django_stub)
    assert asgi_get(router, "feature-b--recon.localhost", "/").status == 404


def test_a_pull_request_from_a_fork_builds_its_head_only_the_base_repository_holds(
    api, client, worker, tmp_path, settings
):
    """GitHub keeps a fork's commits under ``refs/pull/<n>/head`` of the base repository, on
    no branch: the preview builds that commit, not the production branch."""
    from deployments.tests.test_github import deliver, signature

    settings.VAR_DIR = tmp_path / "var"
    repo = make_repo(tmp_path / "base", STATIC_SITE)
    production = final(deploy(api, repo, repository=repo.as_uri())["id"])
    project = production.project
    previews_on(project, "*")
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "checkout", "-q", "-b", "fork-work"], check=True)
    make_repo(repo, {"index.html": "<h1>from a fork</h1>"}, message="Fork's change")
    sha = head(repo)
    subprocess.run([*git, "update-ref", "refs/pull/12/head", sha], check=True)
    subprocess.run([*git, "checkout", "-q", project.branch], check=True)
    subprocess.run([*git, "branch", "-q", "-D", "fork-work"], check=True)

    body = pull_request(project, "opened", 12, sha, fork=True)
    answer = deliver(client, body, signature(project.webhook_secret, body), "pull_request")
    assert answer.status_code in (200, 202), answer.json()
    built = final(answer.json()["deployments"][0])
    assert built.status == "success", (built.error, logs(built.pk))
    assert built.commit_hash == sha and built.from_fork
    router = HostRouter(django_stub)
    slug = production.site.slug
    assert b"from a fork" in asgi_get(router, f"pr-12--{slug}.localhost", "/").body
    assert b"from a fork" not in asgi_get(router, f"{slug}.localhost", "/").body


def test_pull_request_previews_are_reported_on_github_and_reconciled_when_closed(
    alice, client, tmp_path, settings
):
    """The preview's state goes to GitHub as a commit status (pending, then ready with its
    address, or failed with the reason); a pull request closed without the webhook reaching
    Berth loses its preview at the next reconciliation, an open one keeps it."""
    from deployments.models import GitHubConnection
    from deployments.tests.conftest import WorkerProcess, _purge_broker
    from deployments.tests.test_github import TOKEN, FakeGitHub, deliver, signature

    settings.VAR_DIR = tmp_path / "var"
    fake = FakeGitHub()
    settings.GITHUB_API_URL = fake.url
    GitHubConnection.objects.create(user=alice, access_token=TOKEN)
    _purge_broker()
    worker = WorkerProcess(tmp_path, settings, extra_env={"GITHUB_API_URL": fake.url})
    try:
        repo = make_repo(tmp_path / "reported", STATIC_SITE)
        project = _github_project(alice, repo)
        sha = head(repo)
        broken = _pull_request_commit(repo, {"build.sh": "#!/bin/sh\nexit 3\n"})
        for number, commit in ((21, sha), (22, broken)):
            body = pull_request(project, "opened", number, commit, fork=False)
            answer = deliver(client, body, signature(project.webhook_secret, body), "pull_request")
            assert answer.status_code in (200, 202), answer.json()
        built = {d.preview: d for d in map(final, _queued(project))}
        assert built["pr-21"].status == "success" and built["pr-22"].status == "failed"

        statuses = wait_for(lambda: _final_statuses(fake, 2))
        ok = statuses[f"/repos/octocat/reported/statuses/{sha}"]
        assert ok["context"] == "Berth preview"
        assert ok["target_url"] == built["pr-21"].preview_url
        assert ok["target_url"].startswith("http://pr-21--")
        failed = statuses[f"/repos/octocat/reported/statuses/{broken}"]
        assert failed["description"].startswith("Preview build failed")
        assert failed["target_url"].endswith(f"/deployments/{built['pr-22'].pk}/")
    finally:
        worker.stop()

    from deployments.previews import pull_previews_reconcile

    fake.routes["/repos/octocat/reported/pulls/21"] = (200, {"number": 21, "state": "open"}, {})
    fake.routes["/repos/octocat/reported/pulls/22"] = (200, {"number": 22, "state": "closed"}, {})
    assert pull_previews_reconcile() == 1
    router = HostRouter(django_stub)
    slug = project.site.slug
    assert asgi_get(router, f"pr-21--{slug}.localhost", "/").status == 200
    assert asgi_get(router, f"pr-22--{slug}.localhost", "/").status == 404
    # GitHub no longer knows the pull request at all (a deleted repository's): removed too.
    del fake.routes["/repos/octocat/reported/pulls/21"]
    fake.token = "rotated"  # GitHub refusing the token removes nothing
    assert pull_previews_reconcile() == 0
    fake.token = TOKEN
    assert pull_previews_reconcile() == 1
    assert asgi_get(HostRouter(django_stub), f"pr-21--{slug}.localhost", "/").status == 404
    fake.close()


def test_a_pull_request_over_the_plan_is_refused_with_the_plan_limit(alice, client, tmp_path):
    from billing.tests.factories import team_on_plan
    from billing.tests.test_limits import used_minutes
    from deployments.tests.test_github import deliver, signature

    repo = make_repo(tmp_path / "limited", STATIC_SITE)
    project = _github_project(alice, repo)
    team_on_plan(project.site.team, build_minutes=5)
    used_minutes(project.site.team, 6, site=project.site)
    body = pull_request(project, "opened", 5, head(repo), fork=False)
    answer = deliver(client, body, signature(project.webhook_secret, body), "pull_request")
    assert answer.status_code == 402
    assert answer.json()["error"]["code"] == "PLAN_LIMIT_EXCEEDED"
    assert not Deployment.objects.filter(preview="pr-5").exists()


def _github_project(alice, repo):
    from deployments.models import Project
    from deployments.tests.factories import make_site

    site = make_site(alice, slug=repo.name)
    return Project.objects.create(
        team=site.team,
        owner=alice,
        site=site,
        name=repo.name,
        repository=f"octocat/{repo.name}",
        clone_url=repo.as_uri(),
        branch="main",
        build_command="./build.sh",
        output_dir="dist",
        preview_branches="*",
        webhook_secret=f"{repo.name}-secret",
    )


def _pull_request_commit(repo, files: dict) -> str:
    """A commit on a pull request's branch, leaving the repository on main."""
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "checkout", "-q", "-b", "broken"], check=True)
    make_repo(repo, files, message="Broken build")
    sha = head(repo)
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    return sha


def _queued(project) -> list:
    return list(
        Deployment.objects.filter(project=project).exclude(preview="").values_list("pk", flat=True)
    )


def _final_statuses(fake, count: int) -> dict | None:
    """The last status posted per commit, once ``count`` commits have a final one."""
    last = {}
    for path, body in fake.posted:
        last[path] = body
    done = {p: b for p, b in last.items() if b["state"] != "pending"}
    return done if len(done) >= count else None
