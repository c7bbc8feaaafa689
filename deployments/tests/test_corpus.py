"""Real projects build with the default settings and work in a browser.

Each project is scaffolded once per test session (``create-vite`` templates from the npm
registry, with the lockfile a real repository would commit), committed to a git repository,
built through the build runner in its sandbox with default limits, served by the panel's
own site server under daphne, and loaded in headless Chromium: no console errors, and the
page's JavaScript runs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from controlpanel.tests.browser import chromium, console_errors
from deployments import builds, runner
from deployments.models import Deployment, LogLine
from deployments.tests.factories import make_repo

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _default_build_settings(settings):
    """The defaults a fresh install has (the other build tests shorten the timeout)."""
    from controlpanel import settings as defaults

    settings.BUILD_TIMEOUT = defaults.BUILD_TIMEOUT
    settings.BUILD_MEMORY_MB = defaults.BUILD_MEMORY_MB
    settings.BUILD_MAX_PROCESSES = defaults.BUILD_MAX_PROCESSES


CREATE_VITE = "create-vite@9.3.0"
NPM_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}


def _scaffold_vite(root: Path, template: str) -> Path:
    """A create-vite project with its package-lock.json, as its author would commit it."""
    env = {**NPM_ENV, "HOME": str(root), "npm_config_cache": str(root / ".npm")}
    subprocess.run(
        ["npm", "exec", "--yes", "--", CREATE_VITE, template, "--template", template,
         "--no-interactive"],
        cwd=root, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    project = root / template
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts"],
        cwd=project, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return project


@pytest.fixture(scope="session")
def vite_projects():
    """react, vue and svelte from create-vite, scaffolded once for the session."""
    root = Path(tempfile.mkdtemp(prefix="berth-corpus-"))
    projects = {t: _scaffold_vite(root, t) for t in ("react", "vue", "svelte")}
    yield projects
    shutil.rmtree(root, ignore_errors=True)


def repo_from(project: Path, dest: Path) -> Path:
    tree = {}
    for path in project.rglob("*"):
        rel = path.relative_to(project)
        if path.is_file() and rel.parts[0] not in ("node_modules", ".npm"):
            tree[str(rel)] = path.read_bytes()
    return make_repo(dest, tree)


def build(user, repo: Path, **commands) -> Deployment:
    deployment = builds.deployment_create(
        user=user, repository=str(repo), branch="main", **commands
    )
    assert builds.build_claim(deployment_id=deployment.pk) == "claimed"
    deployment = runner.run_build(deployment.pk)
    log = "\n".join(
        LogLine.objects.filter(deployment=deployment)
        .order_by("seq")
        .values_list("message", flat=True)
    )
    assert deployment.status == "success", (deployment.error, log[-3000:])
    return deployment


def site_url(deployment: Deployment, port: int) -> str:
    return f"http://{deployment.site.slug}.localhost:{port}/"


def load(url: str, ready_script: str) -> list[str]:
    """Open the page, wait for ``ready_script`` to be true, return console errors."""
    with chromium() as browser:
        browser.get(url)
        WebDriverWait(browser, 30).until(lambda b: b.execute_script(ready_script))
        return console_errors(browser)


@pytest.mark.parametrize("template", ["react", "vue", "svelte"])
def test_vite_templates_build_with_defaults_and_run(
    template, vite_projects, alice, tmp_path, daphne
):
    repo = repo_from(vite_projects[template], tmp_path / f"{template}-app")
    deployment = build(alice, repo)  # no commands: detected from the repository
    log = LogLine.objects.filter(deployment=deployment)
    assert log.filter(message="Detected Vite.").exists()
    assert log.filter(message="Installing dependencies: npm ci").exists()
    # The starter's counter button: clicking it runs the app's JavaScript.
    with chromium() as browser:
        browser.get(site_url(deployment, daphne.port))
        button = WebDriverWait(browser, 30).until(
            lambda b: b.find_element(By.CSS_SELECTOR, "button")
        )
        before = button.text
        button.click()
        WebDriverWait(browser, 10).until(
            lambda b: b.find_element(By.CSS_SELECTOR, "button").text != before
        )
        assert "1" in browser.find_element(By.CSS_SELECTOR, "button").text
        assert console_errors(browser) == []


def test_plain_static_site_builds_with_defaults_and_runs(alice, tmp_path, daphne):
    repo = make_repo(
        tmp_path / "plain",
        {
            "index.html": (
                '<!doctype html><html><head><title>Plain</title><link rel="icon" href="data:,">'
                '<script src="app.js" defer></script></head>'
                '<body><p id="out">static</p></body></html>'
            ),
            "app.js": "document.getElementById('out').textContent = 'script ran';\n",
        },
    )
    deployment = build(alice, repo)
    errors = load(
        site_url(deployment, daphne.port),
        "return document.getElementById('out').textContent === 'script ran'",
    )
    assert errors == []


def test_mkdocs_from_requirements_builds_with_defaults_and_runs(alice, tmp_path, daphne):
    repo = make_repo(
        tmp_path / "docs-site",
        {
            "requirements.txt": "mkdocs==1.6.1\n",
            # The theme's highlight.js comes from a CDN the test browser cannot reach.
            "mkdocs.yml": "site_name: Corpus Docs\ntheme:\n  name: mkdocs\n  highlightjs: false\n",
            "docs/index.md": "# Welcome to the corpus\n\nBuilt by MkDocs.\n",
        },
    )
    deployment = build(alice, repo)
    assert LogLine.objects.filter(
        deployment=deployment, message__startswith="Installing dependencies: python3 -m venv"
    ).exists()
    errors = load(
        site_url(deployment, daphne.port),
        "return document.querySelector('h1') && document.querySelector('h1').textContent"
        ".includes('Welcome to the corpus') && document.scripts.length > 0 "
        "&& document.readyState === 'complete'",
    )
    assert errors == []
