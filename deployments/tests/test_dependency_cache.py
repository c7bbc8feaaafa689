"""The per-project dependency cache, through real builds of a real npm project.

The project depends on packages from the npm registry (CI reaches it) and commits its
package-lock.json; builds run through the build runner in the sandbox, as in the corpus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import bearer_client
from deployments import builds, dependency_cache, runner
from deployments.blobs import BlobStore
from deployments.models import Deployment, LogLine
from deployments.tests.factories import make_repo

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NPM_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}
BUILD_JS = (
    "const fs = require('fs');\n"
    "const isNumber = require('is-number');\n"
    "fs.mkdirSync('dist', {recursive: true});\n"
    "fs.writeFileSync('dist/index.html', '<p>five is a number: ' + isNumber(5) + '</p>');\n"
)


def _package(dependencies: dict) -> str:
    return json.dumps(
        {
            "name": "cache-app",
            "version": "1.0.0",
            "private": True,
            "scripts": {"build": "node build.js"},
            "dependencies": dependencies,
        },
        indent=2,
    )


def _locked(root: Path, dependencies: dict) -> dict[str, str]:
    """package.json and the package-lock.json npm writes for it (from the registry)."""
    root.mkdir(parents=True)
    (root / "package.json").write_text(_package(dependencies))
    env = {**NPM_ENV, "HOME": str(root), "npm_config_cache": str(root / ".npm")}
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts"],
        cwd=root, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return {
        "package.json": (root / "package.json").read_text(),
        "package-lock.json": (root / "package-lock.json").read_text(),
    }


@pytest.fixture(scope="module")
def lockfiles():
    """Two versions of the project's dependencies, each with its lockfile."""
    root = Path(tempfile.mkdtemp(prefix="berth-cache-locks-"))
    yield {
        "one": _locked(root / "one", {"is-number": "7.0.0"}),
        "two": _locked(root / "two", {"is-number": "7.0.0", "ms": "2.1.3"}),
    }
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _room_for_npm(settings):
    settings.BUILD_TIMEOUT = 300


def log_of(deployment) -> str:
    lines = LogLine.objects.filter(deployment=deployment).order_by("seq")
    return "\n".join(lines.values_list("message", flat=True))


def run(deployment) -> tuple[Deployment, str]:
    assert builds.build_claim(deployment_id=deployment.pk) == "claimed"
    done = runner.run_build(deployment.pk)
    log = log_of(done)
    assert done.status == "success", (done.error, log[-3000:])
    return done, log


def first_build(user, repo: Path) -> tuple[Deployment, str]:
    return run(builds.deployment_create(user=user, repository=str(repo), branch="main"))


def next_build(project) -> tuple[Deployment, str]:
    return run(builds.deployment_deploy_latest(project=project))


def published(deployment) -> str:
    entry = deployment.manifest.entries.get(path="index.html")
    return BlobStore().read(entry.blob_id).decode()


def test_a_second_build_restores_node_modules_and_skips_the_install(
    alice, tmp_path, lockfiles, settings
):
    repo = make_repo(tmp_path / "app", {**lockfiles["one"], "build.js": BUILD_JS})

    first, log = first_build(alice, repo)
    project = first.project
    assert "Dependency cache: miss" in log
    assert "Installing dependencies: npm ci" in log
    assert "Dependency cache: saved node_modules" in log
    cache = dependency_cache.usage(project.pk)
    assert [entry.folders for entry in cache.entries] == [("node_modules",)]
    assert cache.entries[0].inputs == ("package-lock.json", "package.json")

    second, log = next_build(project)
    assert "Dependency cache: hit — node_modules restored" in log
    assert "skipping the install" in log
    assert "Installing dependencies" not in log and "added 1 package" not in log
    # The build still found its dependency: the restored node_modules is the real one.
    assert published(second) == "<p>five is a number: true</p>"
    assert "Dependency cache: kept node_modules" in log
    assert [e.name for e in dependency_cache.usage(project.pk).entries] == [cache.entries[0].name]

    # A changed lockfile is another key: a miss, a real install, a second entry.
    make_repo(repo, lockfiles["two"], message="Add ms")
    _, log = next_build(project)
    assert "Dependency cache: miss" in log and "Installing dependencies: npm ci" in log
    entries = dependency_cache.usage(project.pk).entries
    assert len(entries) == 2 and entries[1].name == cache.entries[0].name

    # A cap that holds the newest install (and the download caches) but not both installs
    # evicts the least recently used one at the end of the next build.
    now = dependency_cache.usage(project.pk)
    cap = now.size - entries[1].size // 2
    settings.BUILD_CACHE_MAX_MB = cap / (1024 * 1024)
    _, log = next_build(project)
    assert "Dependency cache: hit" in log
    assert f"removed the least recently used (entry {entries[1].name[:12]}" in log
    left = dependency_cache.usage(project.pk)
    assert [e.name for e in left.entries] == [entries[0].name]
    assert left.size <= cap


def test_clearing_the_cache_empties_it_for_the_owners_only(
    alice, bob, web, api, tmp_path, lockfiles
):
    repo = make_repo(tmp_path / "app", {**lockfiles["one"], "build.js": BUILD_JS})
    first, _ = first_build(alice, repo)
    project = first.project
    held = dependency_cache.usage(project.pk).size
    assert held > 0

    page = web.get(f"/projects/{project.pk}/").content.decode()
    assert "Dependency cache" in page and "for package-lock.json, package.json" in page
    assert "data-cache-clear" in page and "data-confirm=" in page

    # Another team's member is not told the project exists, and clears nothing.
    other = bearer_client(bob)
    assert other.post(f"/api/projects/{project.pk}/cache/clear").status_code == 404
    assert dependency_cache.usage(project.pk).size == held

    answer = api.post(f"/api/projects/{project.pk}/cache/clear")
    assert answer.status_code == 200
    body = answer.json()
    assert body["freedBytes"] >= held and body["cache"]["entries"] == []
    assert body["cache"]["sizeBytes"] == 0
    assert not dependency_cache.project_root(project.pk).exists()

    _, log = next_build(project)
    assert "Dependency cache: miss" in log and "Installing dependencies: npm ci" in log

    # The page's button does the same.
    done = web.post(f"/projects/{project.pk}/cache/clear/", follow=True).content.decode()
    assert "Dependency cache cleared" in done and "No install cached yet" in done
    assert dependency_cache.usage(project.pk).entries == []


def test_another_teams_page_clear_answers_404(client, bob, alice, tmp_path):
    repo = make_repo(tmp_path / "plain", {"index.html": "<p>hi</p>"})
    project = builds.deployment_create(user=alice, repository=str(repo)).project
    client.force_login(bob)
    assert client.post(f"/projects/{project.pk}/cache/clear/").status_code == 404


def test_a_build_cannot_read_another_projects_cache(alice, tmp_path):
    """Project A's install leaves a secret in its cache; project B's build looks for it
    everywhere it can, by A's host path too, and finds nothing."""
    a_repo = make_repo(tmp_path / "a", {"index.html": "<p>a</p>"})
    a = builds.deployment_create(
        user=alice,
        repository=str(a_repo),
        install_command="echo cache-secret-of-a > /build/cache/a-secret.txt",
        output_dir=".",
    )
    run(a)
    a_cache = dependency_cache.tools_folder(a.project_id)
    assert (a_cache / "a-secret.txt").read_text() == "cache-secret-of-a\n"

    # The secret's name and text are spelled apart, so the logged command holds neither.
    probe = (
        "ls -A /build/cache; "
        f"cat {a_cache}/a-'secret.txt'; "
        f"ls {dependency_cache.project_root(a.project_id)}; "
        "echo found: $(find / -path /proc -prune -o -name a-'secret.txt' -print 2>/dev/null); "
        "echo read: $(grep -rls cache-'secret-of-a' /build /tmp /var/tmp /usr/local 2>/dev/null); "
        "mkdir -p out && echo probed > out/index.html"
    )
    b_repo = make_repo(tmp_path / "b", {"README.md": "b"})
    b = builds.deployment_create(
        user=alice, repository=str(b_repo), build_command=probe, output_dir="out"
    )
    _, log = run(b)
    lines = log.splitlines()
    assert "cache-secret-of-a" not in log
    assert "found:" in lines and "read:" in lines
    assert f"cat: {a_cache}/a-secret.txt: No such file or directory" in lines


def test_a_pinned_python_venv_is_cached_too(alice, tmp_path):
    """MkDocs from a requirements.txt pinned with ==: the second build restores .venv and
    skips pip."""
    repo = make_repo(
        tmp_path / "docs",
        {
            "requirements.txt": "mkdocs==1.6.1\n",
            "mkdocs.yml": "site_name: Cached\n",
            "docs/index.md": "# Cached docs\n",
        },
    )
    first, log = first_build(alice, repo)
    assert "Dependency cache: miss (no .venv cached" in log
    assert "Dependency cache: saved .venv" in log
    _, log = next_build(first.project)
    assert "Dependency cache: hit — .venv restored" in log
    assert "Installing dependencies" not in log
    assert ".venv/bin/mkdocs build" in log and "Documentation built" in log


def test_an_install_that_writes_elsewhere_is_not_cached(alice, tmp_path):
    """Skipping an install that also generates files outside node_modules would lose them:
    such a project is not cached, and says why."""
    package = _package({})
    lock = json.dumps(
        {"name": "cache-app", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
         "packages": {"": {"name": "cache-app", "version": "1.0.0"}}}
    )  # fmt: skip
    repo = make_repo(
        tmp_path / "gen",
        {"package.json": package, "package-lock.json": lock, "index.html": "<p>gen</p>"},
    )
    deployment = builds.deployment_create(
        user=alice,
        repository=str(repo),
        install_command="npm ci && mkdir -p node_modules && echo made > generated.txt",
        build_command="cp generated.txt index.html",
        output_dir=".",
    )
    first, log = run(deployment)
    assert "not used for this install: it also wrote generated.txt" in log
    assert dependency_cache.usage(first.project_id).entries == []
    _, log = next_build(first.project)
    assert "Dependency cache: miss" in log and "Installing dependencies" in log


def test_deleting_the_site_deletes_its_cache(alice, tmp_path, lockfiles):
    from hosting.services import site_delete

    repo = make_repo(tmp_path / "app", {**lockfiles["one"], "build.js": BUILD_JS})
    first, _ = first_build(alice, repo)
    root = dependency_cache.project_root(first.project_id)
    assert root.is_dir()
    site_delete(site=first.site)
    assert not root.exists()
