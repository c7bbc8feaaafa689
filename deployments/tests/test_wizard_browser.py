"""In headless Chromium over a real daphne: the wizard pointed at a Vite repository whose only
branch is master preselects master and fills the commands without typing, and the build it
queues gives a working site; a build cancelled
while the page is open shows Cancelled, not the Building spinner."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD
from controlpanel.tests.browser import chromium, click_and_wait, console_errors
from deployments import builds, runner
from deployments.models import Deployment, DeploymentStage, Project
from deployments.tests.factories import VITE_APP, make_branch, make_repo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def sign_in(browser, daphne, user):
    # The server process knows the production hashers only (the tests use a fast one).
    user.password = make_password(PASSWORD, hasher="argon2")
    user.save(update_fields=["password"])
    browser.get(daphne.url + "/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))


def value(browser, name: str) -> str:
    return browser.find_element(By.NAME, name).get_attribute("value")


def test_wizard_preselects_master_and_fills_the_commands(alice, tmp_path, daphne, settings):
    repo = make_repo(tmp_path / "vite-app", VITE_APP, branch="master")
    docs = {"mkdocs.yml": "site_name: Docs\n", "docs/index.md": "# Docs"}
    make_branch(repo, "docs", docs, orphan=True)
    with chromium() as browser:
        wait = WebDriverWait(browser, 60, poll_frequency=0.05)
        sign_in(browser, daphne, alice)
        browser.get(daphne.url + "/deploy/")
        browser.find_element(By.NAME, "repository").send_keys(repo.as_uri())
        browser.find_element(By.CSS_SELECTOR, "[data-step='1'] [data-next]").click()

        wait.until(lambda b: b.find_element(By.NAME, "build_command").is_displayed())
        assert value(browser, "branch") == "master"
        options = browser.find_elements(By.CSS_SELECTOR, "#branch-options option")
        assert [o.get_attribute("value") for o in options] == ["master", "docs"]
        wait.until(lambda b: value(b, "build_command") == "npm run build")
        assert value(browser, "install_command") == "npm install"
        assert value(browser, "output_dir") == "dist"
        note = browser.find_element(By.CSS_SELECTOR, "[data-detect-note]")
        assert note.text == "Detected Vite."

        # Another branch, another framework; a typed command is the user's and stays.
        branch = browser.find_element(By.NAME, "branch")
        branch.clear()
        branch.send_keys("docs")
        browser.find_element(By.NAME, "install_command").click()  # leaving the field: change
        wait.until(lambda b: value(b, "build_command") == ".venv/bin/mkdocs build")
        assert value(browser, "output_dir") == "site"
        branch = browser.find_element(By.NAME, "branch")
        branch.clear()
        branch.send_keys("main")
        browser.find_element(By.NAME, "install_command").click()
        wait.until(lambda b: "There is no branch “main”" in b.page_source)
        branch = browser.find_element(By.NAME, "branch")
        branch.clear()
        branch.send_keys("master")
        output = browser.find_element(By.NAME, "output_dir")
        output.click()
        wait.until(lambda b: value(b, "build_command") == "npm run build")
        output.clear()
        output.send_keys("dist/")

        browser.find_element(By.CSS_SELECTOR, "[data-step='2'] [data-next]").click()
        summary = browser.find_element(By.CSS_SELECTOR, "[data-summary-for=branch]")
        assert summary.text == "master"
        assert (
            browser.find_element(By.CSS_SELECTOR, "[data-summary-for=build_command]").text
            == "npm run build"
        )
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "[data-deploy]"))
        assert "/deployments/" in browser.current_url
        assert console_errors(browser) == []

    deployment = Deployment.objects.get()
    project = Project.objects.get()
    assert deployment.branch == project.branch == "master"
    assert (project.install_command, project.build_command, project.output_dir) == (
        "npm install",
        "npm run build",
        "dist",
    )

    # The build the wizard queued (run here, in the sandbox, with the default limits): the
    # site works without a command typed.
    settings.BUILD_TIMEOUT = 600
    assert builds.build_claim(deployment_id=deployment.pk) == "claimed"
    built = runner.run_build(deployment.pk)
    assert built.status == "success", built.error
    with chromium() as browser:
        browser.get(f"http://{built.site.slug}.localhost:{daphne.port}/")
        WebDriverWait(browser, 30).until(
            lambda b: b.find_element(By.ID, "app").text == "Hello from Vite"
        )
        assert console_errors(browser) == []


def test_an_unreachable_repository_stays_on_step_one_with_the_reason(alice, tmp_path, daphne):
    with chromium() as browser:
        sign_in(browser, daphne, alice)
        browser.get(daphne.url + "/deploy/")
        browser.find_element(By.NAME, "repository").send_keys((tmp_path / "gone").as_uri())
        browser.find_element(By.CSS_SELECTOR, "[data-step='1'] [data-next]").click()
        WebDriverWait(browser, 60).until(
            lambda b: "does not appear to be a git repository" in b.page_source
        )
        assert browser.find_element(By.NAME, "repository").is_displayed()
        assert not browser.find_element(By.NAME, "build_command").is_displayed()


def test_a_build_cancelled_while_its_page_is_open_shows_cancelled(alice, tmp_path, daphne):
    repo = make_repo(tmp_path / "slow", VITE_APP)
    deployment = builds.deployment_create(user=alice, repository=repo.as_uri())
    # A worker has claimed it and is building (no worker runs here: the row says so).
    assert builds.build_claim(deployment_id=deployment.pk, worker="elsewhere:1") == "claimed"
    deployment.refresh_from_db()
    with chromium() as browser:
        wait = WebDriverWait(browser, 30, poll_frequency=0.05)
        sign_in(browser, daphne, alice)
        browser.get(f"{daphne.url}/deployments/{deployment.pk}/")
        assert browser.find_elements(By.CSS_SELECTOR, ".stages .stage-in_progress")
        # Connected: the stream's first status event names the stage.
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-log-state]").text == "Building")
        builds.deployment_cancel(deployment=deployment, user=alice)
        wait.until(
            lambda b: b.find_element(By.CSS_SELECTOR, "[data-log-state]").text == "Cancelled"
        )
        wait.until(lambda b: not b.find_elements(By.CSS_SELECTOR, ".stages .stage-in_progress"))
        head = browser.find_element(By.CSS_SELECTOR, "[data-live-section=head] h1").text
        assert "Cancelled" in head and "Building" not in head
        assert not browser.find_elements(By.CSS_SELECTOR, ".stages .spin")
        assert browser.find_elements(By.CSS_SELECTOR, "[data-redeploy]")
        # The builder closes its stage later; a reload shows the same.
        assert DeploymentStage.objects.filter(deployment=deployment, status="in_progress").exists()
        browser.refresh()
        assert not browser.find_elements(By.CSS_SELECTOR, ".stages .spin")
        assert "Cancelled" in browser.find_element(By.CSS_SELECTOR, "[data-live-section=head]").text
    # The row says cancelled at once; its builder (none runs here) writes finished_at last.
    assert Deployment.objects.get(pk=deployment.pk).status == Deployment.Status.CANCELLED
