"""In headless Chromium against a live server: create a site, upload a folder, deploy, see it live.

Uses Debian's chromium + chromedriver through selenium; without them the test is skipped
(and fails under CI=1, where they are required).
"""

from __future__ import annotations

import shutil
import tempfile

import pytest
from django.test import Client

from conftest import require_binary, require_service
from deployments.models import Deployment
from hosting.models import Site

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require_service("selenium", False, "pip install -r requirements-dev.txt")
    chromium = require_binary("chromium")
    driver_path = require_binary("chromedriver")
    profile = tempfile.mkdtemp(prefix="berth-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def sign_in(driver, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    from django.conf import settings

    driver.get(f"{live_server.url}/static/img/favicon.svg")
    driver.add_cookie(
        {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "path": "/",
        }
    )


def confirm_dialog(driver) -> None:
    from selenium.webdriver.common.by import By

    ok = wait_for(
        driver, lambda d: d.find_element(By.CSS_SELECTOR, "#confirm-dialog[open] [data-confirm-ok]")
    )
    ok.click()


def test_create_upload_folder_deploy_and_see_it_live(
    transactional_db, live_server, browser, alice, tmp_path
):
    from selenium.webdriver.common.by import By

    folder = tmp_path / "my-site"
    (folder / "css").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><h1>Hello from Berth</h1>")
    (folder / "css" / "site.css").write_text("h1 { color: teal; }")

    sign_in(browser, live_server, alice)
    browser.get(f"{live_server.url}/sites/new/")
    browser.find_element(By.NAME, "name").send_keys("Browser Site")
    # The live address check suggests the address from the name.
    wait_for(
        browser,
        lambda d: "browser-site" in d.find_element(By.CSS_SELECTOR, "[data-slug-status]").text,
    )
    browser.find_element(By.CSS_SELECTOR, "form[data-site-create] button[type=submit]").click()

    wait_for(browser, lambda d: "/files/" in d.current_url)
    site = Site.objects.get(owner=alice)
    assert site.slug == "browser-site" and site.status == Site.Status.PROVISIONING

    # Upload the whole folder through the webkitdirectory input (relative paths kept).
    picker = browser.find_element(By.CSS_SELECTOR, "input[data-upload-folder]")
    picker.send_keys(str(folder))
    wait_for(browser, lambda d: "Uploaded 2 files" in d.page_source)
    browser.find_element(By.LINK_TEXT, "my-site").click()
    wait_for(browser, lambda d: "index.html" in d.page_source and "css" in d.page_source)

    # Deploy these files, confirming in the dialog.
    browser.find_element(By.CSS_SELECTOR, "[data-deploy]").click()
    confirm_dialog(browser)
    wait_for(browser, lambda d: "/deployments/" in d.current_url)
    live = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "tr.is-live [data-live]"))
    assert live.text == "Live"

    site.refresh_from_db()
    assert site.status == Site.Status.ONLINE
    deployment = Deployment.objects.get(site=site)
    assert site.live_deployment_id == deployment.pk
    paths = sorted(deployment.manifest.entries.values_list("path", flat=True))
    assert paths == ["my-site/css/site.css", "my-site/index.html"]
