"""Redeploying a commit whose branch is gone, on real git repositories.

A redeploy fetches its commit by hash, so a deleted (or moved) branch does not matter while
the repository still has the commit; once the commit itself is gone the build fails saying so.
"""

from __future__ import annotations

import subprocess

import pytest

from deployments import builds, runner
from deployments.models import LogLine
from deployments.tests.factories import STATIC_SITE, head, make_branch, make_repo

pytestmark = pytest.mark.django_db(transaction=True)


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def build(deployment):
    assert builds.build_claim(deployment_id=deployment.pk) == "claimed"
    return runner.run_build(deployment.pk)


def log_of(deployment) -> list[str]:
    lines = LogLine.objects.filter(deployment=deployment).order_by("seq")
    return list(lines.values_list("message", flat=True))


@pytest.fixture
def feature_build(alice, tmp_path):
    """A successful build of branch ``feature``, whose commit is on no other branch."""
    repo = make_repo(tmp_path / "site", STATIC_SITE)
    make_branch(repo, "feature", {"index.html": "<h1>feature</h1>"}, message="Feature page")
    git(repo, "checkout", "-q", "feature")
    commit = head(repo)
    git(repo, "checkout", "-q", "main")
    first = build(
        builds.deployment_create(
            user=alice, repository=str(repo), branch="feature", build_command="sh build.sh",
            output_dir="dist",
        )
    )  # fmt: skip
    assert first.status == "success", first.error
    assert first.commit_hash == commit
    return repo, first


def test_a_redeploy_builds_its_commit_after_the_branch_was_deleted(feature_build):
    repo, first = feature_build
    git(repo, "branch", "-D", "feature")  # merged and deleted; the commit is still stored

    again = build(builds.deployment_redeploy(deployment=first))
    assert again.status == "success", (again.error, log_of(again))
    assert again.commit_hash == first.commit_hash
    assert f"Fetching commit {first.commit_hash[:7]} of {repo}…" in log_of(again)
    assert again.manifest_id == first.manifest_id  # the same files as the first build


def test_a_redeploy_of_a_commit_gone_from_the_repository_says_so(feature_build):
    repo, first = feature_build
    git(repo, "branch", "-D", "feature")
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "--quiet", "--prune=now")

    again = build(builds.deployment_redeploy(deployment=first))
    assert again.status == "failed"
    short = first.commit_hash[:7]
    # Then git's own reason, whose wording varies ("git upload-pack: not our ref ...",
    # "remote: ..."), in brackets.
    assert again.error.startswith(f"Commit {short} can no longer be fetched from {repo} (")
    assert "it was deleted from the repository" in again.error
    assert again.error.endswith(
        "“Deploy latest” builds the repository as it is now (the head of feature)."
    )
    assert again.error in log_of(again)
