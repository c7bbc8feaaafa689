"""Reading repositories before a build: branches through ``git ls-remote`` and a branch's files
through a shallow fetch, against real git repositories made in temporary folders."""

from __future__ import annotations

import subprocess

import pytest

from deployments import frameworks, remotes
from deployments.tests.factories import STATIC_SITE, VITE_APP, head, make_branch, make_repo


def test_a_master_only_repository_answers_master_as_its_default(tmp_path):
    repo = make_repo(tmp_path / "site", STATIC_SITE, branch="master")
    found = remotes.branches_list(repo.as_uri())
    assert found.default_branch == "master"
    assert found.branches == ["master"]
    assert found.heads == {"master": head(repo)}
    assert "main" not in found


def test_several_branches_with_the_default_first(tmp_path):
    repo = make_repo(tmp_path / "site", STATIC_SITE, branch="trunk")
    make_branch(repo, "feature/new-look", {"index.html": "<h1>New</h1>"})
    make_branch(repo, "Docs", {"docs.html": "docs"})
    make_branch(repo, "alpha", {"a.html": "a"})
    found = remotes.branches_list(repo.as_uri())
    assert found.default_branch == "trunk"
    assert found.branches == ["trunk", "alpha", "Docs", "feature/new-look"]
    assert found.heads["trunk"] == head(repo)


def test_unreachable_and_empty_repositories_say_why(tmp_path):
    with pytest.raises(remotes.RemoteError, match="does not appear to be a git repository"):
        remotes.branches_list((tmp_path / "missing").as_uri())
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "bare")], check=True)
    with pytest.raises(remotes.RemoteError, match="no branches yet"):
        remotes.branches_list((tmp_path / "bare").as_uri())


def test_a_transport_outside_the_allow_list_is_refused(tmp_path, settings):
    repo = make_repo(tmp_path / "site", STATIC_SITE)
    settings.BUILD_ALLOW_LOCAL_REPOSITORIES = False
    with pytest.raises(remotes.RemoteError, match="not allowed"):
        remotes.branches_list(repo.as_uri())


def test_a_dead_host_fails_within_the_timeout(monkeypatch):
    import socket

    # A listener that accepts and never answers: git waits until the timeout kills it.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    monkeypatch.setattr(remotes, "TIMEOUT", 2)
    try:
        port = server.getsockname()[1]
        with pytest.raises(remotes.RemoteError, match="did not answer within 2 seconds"):
            remotes.branches_list(f"https://127.0.0.1:{port}/x.git")
    finally:
        server.close()


def test_a_branch_is_fetched_shallowly_and_its_files_read_without_a_checkout(tmp_path):
    repo = make_repo(tmp_path / "app", STATIC_SITE, branch="master")
    make_branch(repo, "vite", VITE_APP)
    (repo / "secret.txt").write_text("not committed")
    found = remotes.branch_inspect(repo.as_uri(), "vite", inspect=frameworks.detect)
    assert (found.framework, found.build_command, found.output_dir) == (
        "Vite",
        "npm run build",
        "dist",
    )
    on_master = remotes.branch_inspect(repo.as_uri(), "master", inspect=frameworks.detect)
    assert on_master.framework == "Static site" and on_master.output_dir == "."

    def files_seen(files):
        return sorted(files.files), files.read("index.html"), files.read("secret.txt")

    names, index, secret = remotes.branch_inspect(repo.as_uri(), "master", inspect=files_seen)
    assert names == ["build.sh", "index.html"] and "Hello from git" in index and secret is None


def test_a_link_in_the_repository_is_not_followed(tmp_path):
    repo = tmp_path / "app"
    repo.mkdir()
    (repo / "package.json").symlink_to("/etc/passwd")
    (repo / "index.html").write_text("<h1>hi</h1>")
    make_repo(repo, {})
    found = remotes.branch_inspect(repo.as_uri(), "main", inspect=frameworks.detect)
    assert found.framework == "Static site"
    assert frameworks.DirectoryFiles(repo).read("package.json") is None


def test_the_ext_transport_never_runs_a_command(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(remotes.RemoteError, match="not allowed"):
        remotes.branches_list(f"ext::sh -c touch% {marker}")
    assert not marker.exists()
