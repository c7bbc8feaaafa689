"""The build pipeline end to end: a real Celery worker building real git repositories."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from billing.tests.factories import free_plan_limits
from deployments import builds
from deployments.blobs import BlobStore
from deployments.models import Deployment, LogLine
from deployments.tests.conftest import WorkerProcess, wait_for
from deployments.tests.factories import STATIC_SITE, head, make_repo
from hosting.models import Site

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def deploy(api, repo, **body):
    payload = {
        "repository": str(repo),
        "branch": "main",
        "buildCommand": "./build.sh",
        "outputDir": "dist",
        **body,
    }
    response = api.post("/api/deployments", payload, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def final(pk, timeout=90) -> Deployment:
    return wait_for(
        lambda: Deployment.objects.filter(pk=pk, status__in=Deployment.FINAL_STATUSES).first(),
        timeout=timeout,
    )


def logs(pk) -> list[str]:
    return list(LogLine.objects.filter(deployment_id=pk).values_list("message", flat=True))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def sleep_marker() -> str:
    """A sleep command no other process runs, to find it from outside the build's sandbox."""
    return f"sleep 300.{random.randrange(10**6):06d}"


def processes_running(command: str) -> list[int]:
    """Host pids of live processes whose command line is ``command``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                argv = cmdline.read().split(b"\0")
        except OSError:
            continue
        line = b" ".join(a for a in argv if a).decode(errors="replace")
        if line == command and alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_git_deploy_builds_publishes_and_goes_live(api, alice, worker, tmp_path):
    repo = make_repo(tmp_path / "my-app", STATIC_SITE)
    created = deploy(api, repo, envVars="NODE_ENV=production")
    assert created["status"] == "queued" and created["repo"] == "my-app"
    assert created["url"].startswith("http://my-app.")
    deployment = final(created["id"])
    assert deployment.status == "success", (deployment.error, logs(deployment.pk))
    assert deployment.commit_hash == head(repo)
    assert deployment.commit_author == "Ada Lovelace" and deployment.commit_message == "Initial"
    site = Site.objects.get(pk=deployment.site_id)
    assert site.live_deployment_id == deployment.pk and site.status == "online"
    entry = deployment.manifest.entries.get(path="index.html")
    assert b"Hello from git" in BlobStore().read(entry.blob_id)
    lines = logs(deployment.pk)
    assert "building" in lines and any(line.startswith("Cloning") for line in lines)
    published = next(line for line in lines if line.startswith("Published"))
    files = deployment.manifest.file_count
    assert published.startswith(f"Published {files} file{'' if files == 1 else 's'} ({files} new")
    detail = api.get(f"/api/deployments/{deployment.pk}").json()
    assert [(s["name"], s["status"]) for s in detail["stages"]] == [
        ("Queued", "completed"),
        ("Building", "completed"),
        ("Deploying", "completed"),
        ("Success", "completed"),
    ]
    assert all(stage["timestamp"] for stage in detail["stages"])
    assert detail["commit"] == deployment.commit_hash[:7] and detail["duration"]
    seqs = list(
        LogLine.objects.filter(deployment=deployment).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))


def test_failing_build_is_failed_with_its_output(api, worker, tmp_path):
    repo = make_repo(
        tmp_path / "broken",
        {"build.sh": "#!/bin/sh\necho compiling\necho 'Error: missing module' >&2\nexit 3\n"},
    )
    deployment = final(deploy(api, repo)["id"])
    assert deployment.status == "failed"
    assert deployment.error == "The build failed with exit code 3."
    errors = LogLine.objects.filter(deployment=deployment, level="error")
    assert errors.filter(message="Error: missing module").exists()
    stages = {s.name: s.status for s in deployment.stages.all()}
    assert stages["building"] == "failed" and stages["failed"] == "failed"
    assert Site.objects.get(pk=deployment.site_id).live_deployment_id is None


def test_missing_output_directory_fails_clearly(api, worker, tmp_path):
    repo = make_repo(tmp_path / "nodist", STATIC_SITE)
    deployment = final(deploy(api, repo, outputDir="public")["id"])
    assert deployment.status == "failed"
    assert "output directory “public” does not exist" in deployment.error


def test_output_directory_outside_the_checkout_fails(api, worker, tmp_path):
    site = {**STATIC_SITE, "build.sh": "#!/bin/sh\nln -s / escape\n"}
    repo = make_repo(tmp_path / "escape", site)
    deployment = final(deploy(api, repo, outputDir="escape")["id"])
    assert deployment.status == "failed"
    assert "is outside the repository" in deployment.error


def test_timeout_kills_the_whole_process_group(api, worker, tmp_path, settings):
    marker = sleep_marker()
    script = f"#!/bin/sh\n{marker} &\necho started\nwait\n"
    repo = make_repo(tmp_path / "slow", {"build.sh": script})
    settings.BUILD_TIMEOUT = 8
    worker.stop()  # the worker reads its settings from the environment: start one with 8s
    worker = WorkerProcess(tmp_path, settings)
    try:
        pk = deploy(api, repo)["id"]
        wait_for(lambda: "started" in logs(pk))
        child = wait_for(lambda: processes_running(marker))[0]
        deployment = final(pk)
    finally:
        worker.stop()
    assert deployment.status == "failed"
    assert "longer than 8 seconds" in deployment.error
    wait_for(lambda: not alive(child), timeout=10)


def test_cancel_mid_build_kills_it_within_seconds(api, worker, tmp_path):
    marker = sleep_marker()
    script = f"#!/bin/sh\n{marker} &\necho started\nwait\n"
    repo = make_repo(tmp_path / "long", {"build.sh": script})
    pk = deploy(api, repo)["id"]
    wait_for(lambda: "started" in logs(pk))
    child = wait_for(lambda: processes_running(marker))[0]  # before the cancel kills it
    response = api.post(f"/api/deployments/{pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    wait_for(lambda: not alive(child), timeout=10)
    deployment = final(pk)
    assert deployment.status == "cancelled"
    wait_for(lambda: "Deployment cancelled; the build was stopped." in logs(pk), timeout=10)
    assert api.post(f"/api/deployments/{pk}/cancel").status_code == 409


def test_cancelled_while_queued_never_builds(api, alice, tmp_path, transactional_db):
    repo = make_repo(tmp_path / "queued", STATIC_SITE)
    pk = deploy(api, repo)["id"]  # no worker yet: it stays queued
    assert api.post(f"/api/deployments/{pk}/cancel").json()["status"] == "cancelled"
    # A late delivery of its task finds nothing to do.
    from deployments.tasks import build_deployment

    assert build_deployment.apply(args=[pk]).get() == "skip"
    assert Deployment.objects.get(pk=pk).status == "cancelled"
    assert not any(line.startswith("Cloning") for line in logs(pk))


def test_duplicate_delivery_builds_once(api, alice, tmp_path, transactional_db, settings):
    repo = make_repo(tmp_path / "twice", STATIC_SITE)
    pk = deploy(api, repo)["id"]
    from deployments.tasks import build_deployment

    assert build_deployment.apply(args=[pk]).get() == "success"
    assert build_deployment.apply(args=[pk]).get() == "skip"
    assert sum(line.startswith("Cloning into") for line in logs(pk)) == 1


def test_secret_values_never_reach_logs_or_the_api(api, worker, tmp_path):
    site = {
        **STATIC_SITE,
        "build.sh": STATIC_SITE["build.sh"] + 'echo "key is $API_KEY"\nenv\n',
    }
    repo = make_repo(tmp_path / "secret", site)
    created = deploy(api, repo, envVars="API_KEY=s3cr3t-value-42\nPUBLIC=yes")
    deployment = final(created["id"])
    assert deployment.status == "success"
    text = "\n".join(logs(deployment.pk))
    assert "key is ••••••" in text and "s3cr3t-value-42" not in text
    # The clean environment: the project's variables plus PATH, HOME and LANG, nothing else.
    names = {line.split("=", 1)[0] for line in logs(deployment.pk) if "=" in line}
    assert {"API_KEY", "PUBLIC", "PATH", "HOME", "LANG"} <= names
    assert not names & {"DATABASE_URL", "SECRET_KEY", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    for url in (
        f"/api/deployments/{deployment.pk}",
        f"/api/deployments/{deployment.pk}/logs?limit=1000",
        "/api/deployments",
    ):
        body = api.get(url).content.decode()
        assert "s3cr3t-value-42" not in body
    assert api.get(f"/api/deployments/{deployment.pk}").json()["project"]["envVars"] == {
        "API_KEY": "••••••",
        "PUBLIC": "••••••",
    }


def test_redeploy_builds_the_same_commit(api, worker, tmp_path):
    repo = make_repo(tmp_path / "again", STATIC_SITE)
    first = final(deploy(api, repo)["id"])
    old = first.commit_hash
    make_repo(repo, {"index.html": "<h1>v2</h1>"}, message="Second")
    response = api.post(f"/api/deployments/{first.pk}/redeploy")
    assert response.status_code == 201
    again = final(response.json()["id"])
    assert again.status == "success", again.error
    assert again.commit_hash == old and again.redeploy_of_id == first.pk
    fresh = final(deploy(api, repo)["id"])
    assert fresh.commit_hash == head(repo) != old


def test_killed_worker_leaves_no_build_stuck(api, worker_process, tmp_path, settings):
    marker = sleep_marker()
    script = f"#!/bin/sh\n{marker} &\necho started\nwait\n"
    repo = make_repo(tmp_path / "doomed", {"build.sh": script})
    pk = deploy(api, repo)["id"]
    wait_for(lambda: "started" in logs(pk))
    child = wait_for(lambda: processes_running(marker))[0]
    worker_process.kill()
    assert Deployment.objects.get(pk=pk).status == "building"
    time.sleep(2)
    assert builds.builds_reap(stale_after=1) == [Deployment.objects.get(pk=pk).pk]
    deployment = Deployment.objects.get(pk=pk)
    assert deployment.status == "failed"
    assert "worker stopped responding" in deployment.error
    assert "worker stopped responding" in logs(pk)[-1]
    wait_for(lambda: not alive(child), timeout=10)
    assert builds.builds_reap(stale_after=1) == []
    if alive(child):  # pragma: no cover - never leave a stray process behind
        os.kill(child, signal.SIGKILL)


def test_concurrent_build_limit_queues_further_builds(
    api, alice, worker_process, tmp_path, settings
):
    repo_a = make_repo(tmp_path / "a", {**STATIC_SITE, "build.sh": "#!/bin/sh\nsleep 3\n"})
    repo_b = make_repo(tmp_path / "b", STATIC_SITE)
    free_plan_limits(concurrent_builds=1)  # the team's plan: one build at a time
    worker_process.stop()
    limited = WorkerProcess(tmp_path, settings)
    try:
        a = deploy(api, repo_a, outputDir=".")["id"]
        wait_for(lambda: Deployment.objects.filter(pk=a, status="building").exists())
        b = deploy(api, repo_b)["id"]
        time.sleep(1.5)
        assert Deployment.objects.get(pk=b).status == "queued"
        assert final(a).status == "success"
        assert final(b).status == "success"
        assert Deployment.objects.get(pk=b).started_at >= Deployment.objects.get(pk=a).finished_at
    finally:
        limited.stop()


def test_signed_push_webhook_deploys_the_new_commit(api, client, worker, tmp_path):
    from deployments.tests.test_github import deliver, push, signature

    repo = make_repo(tmp_path / "hooked", STATIC_SITE)
    first = final(deploy(api, repo, repository=repo.as_uri())["id"])
    make_repo(repo, {"index.html": "<h1>pushed</h1>"}, message="Push")
    project = first.project
    body = push(project.clone_url)
    response = deliver(client, body, signature(project.webhook_secret, body))
    assert response.status_code == 202
    pushed = final(response.json()["deployments"][0])
    assert pushed.status == "success" and pushed.commit_hash == head(repo)
    entry = pushed.manifest.entries.get(path="index.html")
    assert BlobStore().read(entry.blob_id) == b"<h1>pushed</h1>"
