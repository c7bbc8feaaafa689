"""In headless Chromium against a live server: create a site, upload a folder, deploy, see it
live, roll back; every hosting page runs within the Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from controlpanel.tests.browser import chromium, console_errors
from deployments.models import Deployment
from hosting.models import Site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for(driver, condition, timeout=20):
    return WebDriverWait(driver, timeout).until(condition)


def sign_in(driver, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    driver.get(f"{live_server.url}/static/img/favicon.svg")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    driver.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})


OK = "#confirm-dialog[open] [data-confirm-ok]"


def confirm(driver) -> None:
    wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, OK)).click()


def test_create_upload_folder_deploy_and_roll_back(live_server, alice, tmp_path):
    folder = tmp_path / "my-site"
    (folder / "css").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><h1>Hello from Berth</h1>")
    (folder / "css" / "site.css").write_text("h1 { color: teal; }")

    with chromium() as browser:
        sign_in(browser, live_server, alice)
        browser.get(f"{live_server.url}/sites/")
        assert "No sites yet" in browser.page_source
        browser.get(f"{live_server.url}/sites/new/")
        browser.find_element(By.NAME, "name").send_keys("Browser Site")
        # The live address check proposes the address made from the name.
        status = browser.find_element(By.CSS_SELECTOR, "[data-slug-status]")
        wait_for(browser, lambda d: "browser-site" in status.text)
        browser.find_element(By.CSS_SELECTOR, "form[data-site-create] [type=submit]").click()

        wait_for(browser, lambda d: "/files/" in d.current_url)
        site = Site.objects.get(owner=alice)
        assert site.slug == "browser-site" and site.status == Site.Status.PROVISIONING

        # A whole folder through the webkitdirectory input: relative paths are kept.
        browser.find_element(By.CSS_SELECTOR, "input[data-upload-folder]").send_keys(str(folder))
        wait_for(browser, lambda d: "Uploaded 2 files" in d.page_source)
        browser.find_element(By.PARTIAL_LINK_TEXT, "my-site").click()
        wait_for(browser, lambda d: "path=my-site" in d.current_url)
        assert (
            "index.html" in browser.page_source and 'data-path="my-site/css"' in browser.page_source
        )

        row = "[data-path='my-site/index.html'] form[data-confirm] button[type=submit]"
        browser.find_element(By.CSS_SELECTOR, row).click()
        ok = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, OK))
        assert "btn-danger" in ok.get_attribute("class")  # deleting a file is red
        browser.find_element(By.CSS_SELECTOR, "#confirm-dialog [data-confirm-cancel]").click()

        # Deploy these files (confirmed in the dialog): the deployment is live. Deploying
        # destroys nothing, so the dialog's button is the primary one, not a red "danger" one.
        browser.find_element(By.CSS_SELECTOR, "[data-deploy]").click()
        ok = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, OK))
        assert ok.text == "Deploy" and ok.get_attribute("class") == "btn btn-primary"
        confirm(browser)
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr.is-live [data-live]"))
        site.refresh_from_db()
        first = Deployment.objects.get(site=site)
        assert site.status == Site.Status.ONLINE and site.live_deployment_id == first.pk
        paths = sorted(first.manifest.entries.values_list("path", flat=True))
        assert paths == ["my-site/css/site.css", "my-site/index.html"]

        # Edit a file in the browser, deploy again, then roll back to the first deployment.
        browser.get(f"{live_server.url}/sites/{site.pk}/files/edit/?path=my-site/index.html")
        editor = browser.find_element(By.CSS_SELECTOR, "textarea.code-editor")
        editor.clear()
        editor.send_keys("<h1>Second version</h1>")
        browser.find_element(By.CSS_SELECTOR, "form[data-editor] [type=submit]").click()
        wait_for(browser, lambda d: "Saved" in d.page_source)
        browser.find_element(By.CSS_SELECTOR, "[data-deploy]").click()
        confirm(browser)
        wait_for(browser, lambda d: Deployment.objects.filter(site=site).count() == 2)
        rollback = f"form[action$='/deployments/{first.pk}/rollback/'] button"
        wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, rollback)).click()
        confirm(browser)
        wait_for(browser, lambda d: "Rolled back" in d.page_source)
        site.refresh_from_db()
        assert site.live_deployment.source == Deployment.Source.ROLLBACK
        assert site.live_deployment.manifest_id == first.manifest_id

        for tab in ("", "files/", "deployments/", "settings/"):
            browser.get(f"{live_server.url}/sites/{site.pk}/{tab}")
        errors = [e for e in console_errors(browser) if "Content Security Policy" in e]
        assert errors == []


DROP_FILES = """
const zone = document.querySelector("form[data-upload]");
const transfer = new DataTransfer();
for (const [name, text] of arguments[0]) transfer.items.add(new File([text], name));
zone.dispatchEvent(
  new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
"""


def test_drag_and_drop_upload_and_clear_limit_errors(live_server, alice, settings):
    from hosting.files import operations as ops
    from hosting.services import site_create

    site = site_create(owner=alice, name="Dropped", slug="dropped")
    settings.SITE_UPLOAD_MAX_FILE_SIZE = 64
    with chromium() as browser:
        sign_in(browser, live_server, alice)
        browser.get(f"{live_server.url}/sites/{site.pk}/files/")
        browser.execute_script(DROP_FILES, [["index.html", "<h1>dropped</h1>"], ["a.css", "a{}"]])
        wait_for(browser, lambda d: "Uploaded 2 files" in d.page_source)
        assert [e.name for e in ops.folder_list(site=site)] == ["a.css", "index.html"]

        # Over the per-file limit: refused in the page, with the limit named, nothing sent.
        browser.execute_script(DROP_FILES, [["big.txt", "x" * 100]])
        error = browser.find_element(By.CSS_SELECTOR, "[data-upload-error]")
        wait_for(browser, lambda d: error.is_displayed())
        assert "64 bytes" in error.text
        assert [e.name for e in ops.folder_list(site=site)] == ["a.css", "index.html"]

        # Over the quota: the server refuses the whole upload and the page says why.
        Site.objects.filter(pk=site.pk).update(storage_limit=30)
        browser.get(f"{live_server.url}/sites/{site.pk}/files/")
        browser.execute_script(DROP_FILES, [["one.txt", "1" * 10], ["two.txt", "2" * 10]])
        error = browser.find_element(By.CSS_SELECTOR, "[data-upload-error]")
        wait_for(browser, lambda d: error.is_displayed() and "free" in error.text)
        assert [e.name for e in ops.folder_list(site=site)] == ["a.css", "index.html"]
