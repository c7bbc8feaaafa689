"""Through the real pipeline (a Celery worker building real git repositories): settings left
empty are detected from the checkout, and a clone that fails says git's reason."""

from __future__ import annotations

import subprocess

import pytest

from deployments import services
from deployments.blobs import BlobStore
from deployments.models import Deployment, LogLine
from deployments.tests.conftest import WorkerProcess, wait_for
from deployments.tests.factories import make_branch, make_repo

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def final(pk, timeout=120) -> Deployment:
    return wait_for(
        lambda: Deployment.objects.filter(pk=pk, status__in=Deployment.FINAL_STATUSES).first(),
        timeout=timeout,
    )


def logs(pk) -> list[str]:
    return list(LogLine.objects.filter(deployment_id=pk).values_list("message", flat=True))


def test_empty_settings_are_detected_at_build_time(alice, worker, tmp_path):
    site_files = {
        "public/index.html": "<!doctype html><h1>From public</h1>\n",
        "README.md": "# A site kept in public/\n",
    }
    repo = make_repo(tmp_path / "kept-in-public", site_files, branch="master")
    created = services.deployment_create(user=alice, repository=repo.as_uri())
    deployment = final(created.pk)
    assert deployment.status == "success", (deployment.error, logs(deployment.pk))
    assert deployment.branch == "master"
    assert "Detected Static site." in logs(deployment.pk)
    paths = set(deployment.manifest.entries.values_list("path", flat=True))
    assert paths == {"index.html"}
    entry = deployment.manifest.entries.get(path="index.html")
    assert b"From public" in BlobStore().read(entry.blob_id)


def test_a_failed_clone_says_why(alice, transactional_db, settings, tmp_path):
    repo = make_repo(tmp_path / "gone-soon", {"index.html": "<h1>hi</h1>"})
    make_branch(repo, "release", {"index.html": "<h1>release</h1>"})
    # The branch exists when the deploy is asked for, and is deleted before a worker clones.
    queued = services.deployment_create(user=alice, repository=repo.as_uri(), branch="release")
    subprocess.run(["git", "-C", str(repo), "branch", "-D", "release"], check=True)
    worker = WorkerProcess(tmp_path, settings)
    try:
        deployment = final(queued.pk)
    finally:
        worker.stop()
    assert deployment.status == "failed"
    assert deployment.error.startswith("Cloning the repository failed with exit code 128: ")
    assert "release" in deployment.error and "not found" in deployment.error
