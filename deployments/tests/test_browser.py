"""A user deploys a local git repository through the wizard in headless Chromium, watches the
log stream in live over a real daphne, and visits the deployed site."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD
from controlpanel.tests.browser import chromium, click_and_wait, console_errors
from deployments.models import Deployment
from deployments.tests.factories import STATIC_SITE, make_repo

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOW_BUILD = (
    "#!/bin/sh\nset -e\n"
    'for i in $(seq 1 20); do echo "step $i of 20"; sleep 0.5; done\n'
    "mkdir -p dist\ncp index.html dist/\n"
)


def test_wizard_deploy_with_live_logs(alice, tmp_path, daphne, worker):
    repo = make_repo(tmp_path / "hello-site", {**STATIC_SITE, "build.sh": SLOW_BUILD})
    # The server process knows the production hashers only (the tests use a fast one).
    alice.password = make_password(PASSWORD, hasher="argon2")
    alice.save(update_fields=["password"])
    with chromium() as browser:
        wait = WebDriverWait(browser, 60, poll_frequency=0.05)
        browser.get(daphne.url + "/accounts/login/")
        browser.find_element(By.NAME, "login").send_keys(alice.email)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form button[type=submit]"))

        browser.get(daphne.url + "/dashboard/")
        assert browser.find_element(By.CSS_SELECTOR, "[data-stat=totalDeployments]").text == "0"
        click_and_wait(browser, browser.find_element(By.LINK_TEXT, "New Deployment"))

        # Step 1: a local git URL.
        browser.find_element(By.NAME, "repository").send_keys(repo.as_uri())
        browser.find_element(By.CSS_SELECTOR, "[data-step='1'] [data-next]").click()
        # Step 2: build settings, once the repository's branches and framework are read.
        build = browser.find_element(By.NAME, "build_command")
        wait.until(lambda b: build.is_displayed())
        wait.until(lambda b: b.find_element(By.NAME, "branch").get_attribute("value") == "main")
        wait.until(
            lambda b: "Detected" in b.find_element(By.CSS_SELECTOR, "[data-detect-note]").text
        )
        build.send_keys("./build.sh")
        output = browser.find_element(By.NAME, "output_dir")
        output.clear()
        output.send_keys("dist")
        browser.find_element(By.NAME, "env_vars").send_keys("GREETING=bonjour-42")
        browser.find_element(By.CSS_SELECTOR, "[data-step='2'] [data-next]").click()
        # Step 3: the summary, then deploy.
        summary = browser.find_element(By.CSS_SELECTOR, "[data-summary-for=repository]")
        assert summary.text == repo.as_uri()
        assert (
            browser.find_element(By.CSS_SELECTOR, "[data-summary-for=env_vars]").text == "GREETING"
        )
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "[data-deploy]"))
        assert "/deployments/" in browser.current_url
        deployment = Deployment.objects.get()

        # Lines arrive while the build is still running.
        wait.until(lambda b: "step 2 of 20" in b.find_element(By.ID, "build-log").text)
        assert Deployment.objects.get(pk=deployment.pk).status in ("queued", "building")
        assert "step 20 of 20" not in browser.find_element(By.ID, "build-log").text
        # Following the log: the "resume auto-scroll" button shows only after scrolling up.
        assert not browser.find_element(By.CSS_SELECTOR, "[data-log-follow]").is_displayed()

        # The page follows the deployment to the end: stages, state, Visit Site.
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-visit-site]"))
        wait.until(lambda b: "Live at" in b.find_element(By.ID, "build-log").text)
        assert "step 20 of 20" in browser.find_element(By.ID, "build-log").text
        seqs = [
            e.get_attribute("data-seq")
            for e in browser.find_elements(By.CSS_SELECTOR, "#build-log .line[data-seq]")
        ]
        assert len(seqs) == len(set(seqs))  # nothing shown twice
        assert browser.find_element(By.CSS_SELECTOR, "[data-log-state]").text == "Deployed"
        stages = browser.find_elements(By.CSS_SELECTOR, ".stages .stage-completed")
        assert len(stages) == 4

        deployment.refresh_from_db()
        assert deployment.status == "success"
        url = browser.find_element(By.CSS_SELECTOR, "[data-visit-site]").get_attribute("href")
        assert (
            url.rstrip("/") == deployment.site.url == f"http://hello-site.localhost:{daphne.port}"
        )
        # Visit Site: the same daphne serves the site by its host name.
        browser.get(url)
        assert browser.find_element(By.TAG_NAME, "h1").text == "Hello from git"

        browser.get(daphne.url + "/deployments/")
        assert "hello-site" in browser.page_source
        # Searching filters the table in place (htmx), with skeleton rows while it loads.
        browser.find_element(By.CSS_SELECTOR, "input[type=search]").send_keys("no-such-repo")
        wait.until(lambda b: "No deployments match" in b.page_source)
        assert "search=no-such-repo" in browser.current_url
        assert [e for e in console_errors(browser) if "Content Security Policy" in e] == []
