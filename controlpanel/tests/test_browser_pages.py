"""Every page of the panel in Chromium, with data, at phone and desktop widths.

Set ``BERTH_SCREENSHOTS`` to a folder to keep a screenshot of each page at each width.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from controlpanel.tests.browser import chromium, console_errors
from controlpanel.tests.pages import html_pages, sample_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [(390, 844), (1280, 900)]

# What a page must not do, measured in the page: [problem, ...] (empty when it is fine).
LAYOUT_PROBLEMS = """
const problems = [];
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth) {
  problems.push(`the page is ${root.scrollWidth}px wide on a ${root.clientWidth}px screen`);
}
for (const bar of document.querySelectorAll(".tabs")) {
  if (bar.scrollWidth > bar.clientWidth) {
    problems.push(`a tab bar scrolls: ${bar.scrollWidth}px of tabs in ${bar.clientWidth}px`);
  }
  for (const tab of bar.querySelectorAll("a")) {
    const box = tab.getBoundingClientRect();
    if (box.left < 0 || box.right > root.clientWidth) {
      problems.push(`the tab “${tab.textContent.trim()}” is off screen`);
    }
  }
}
const fields = "input:not([type=hidden], [type=submit], [type=button]), select, textarea";
for (const field of document.querySelectorAll(fields)) {
  const named = field.labels.length || field.ariaLabel || field.getAttribute("aria-labelledby");
  if (!named && !field.closest("[hidden]")) {
    problems.push(`a field has no label: ${field.outerHTML.slice(0, 80)}`);
  }
}
for (const element of document.querySelectorAll("[hidden]")) {
  if (getComputedStyle(element).display !== "none") {
    problems.push(`a hidden element is shown: ${element.outerHTML.slice(0, 80)}`);
  }
}
return problems;
"""


def _slug(url: str) -> str:
    url = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "id", url.lower())
    return re.sub(r"[^a-z0-9]+", "-", url).strip("-")[:60] or "landing"


def _walk(live_server, client: Client, pages: list[str], shots: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    with chromium(*WIDTHS[0]) as browser:
        browser.get(live_server.url + "/health")
        if settings.SESSION_COOKIE_NAME in client.cookies:
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})
        for width, height in WIDTHS:
            browser.set_window_size(width, height)
            for number, url in enumerate(pages):
                browser.get(live_server.url + url)
                problems = browser.execute_script(LAYOUT_PROBLEMS)
                if problems:
                    found[f"{url} at {width}px"] = problems
                if shots:
                    browser.save_screenshot(
                        str(Path(shots) / f"{width}-{number:02d}-{_slug(url)}.png")
                    )
        csp = [e for e in console_errors(browser) if "Content Security Policy" in e]
        if csp:
            found["console"] = csp
    return found


def test_every_page_fits_phones_and_desktops(live_server, alice):
    """Signed in with data, and signed out: no page scrolls sideways, every tab of a tab bar is
    on screen, nothing marked hidden shows, and no page breaks the CSP."""
    # An operator who also hosts sites: the customer pages and the operator pages are walked.
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    data = sample_account(alice)
    signed_in = Client()
    signed_in.force_login(alice)
    member_pages = html_pages(signed_in, data)
    visitor_pages = html_pages(Client(), data)
    # The walk reaches the pages people use most (a guard against a walk that finds nothing).
    for url in (
        f"/sites/{data.site.pk}/deployments/",
        f"/domains/{data.registered.pk}/dns/",
        "/operations/",
    ):
        assert url in member_pages
    assert "/accounts/password/reset/" in visitor_pages

    shots = os.environ.get("BERTH_SCREENSHOTS", "")
    problems = _walk(live_server, signed_in, member_pages, shots and f"{shots}/in")
    problems |= _walk(live_server, Client(), visitor_pages, shots and f"{shots}/out")
    assert problems == {}


def _signed_in(browser, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    browser.get(live_server.url + "/health")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})


def test_confirm_dialog_asks_for_typing_only_when_the_action_needs_it(live_server, alice):
    from selenium.webdriver.common.by import By

    from hosting.services import site_create

    site = site_create(owner=alice, name="Docs", slug="docs")
    with chromium() as browser:
        _signed_in(browser, live_server, alice)
        browser.get(f"{live_server.url}/sites/{site.pk}/settings/")
        browser.find_element(By.XPATH, "//button[contains(., 'Take offline')]").click()
        dialog = browser.find_element(By.ID, "confirm-dialog")
        assert dialog.is_displayed()
        assert not browser.find_element(By.ID, "confirm-typed-input").is_displayed()
        assert "Type" not in dialog.text
        browser.find_element(By.CSS_SELECTOR, "[data-confirm-cancel]").click()

        browser.find_element(By.XPATH, "//button[contains(., 'Delete site')]").click()
        typed = browser.find_element(By.ID, "confirm-typed-input")
        assert typed.is_displayed()
        assert "Type docs to confirm" in dialog.text
        ok = browser.find_element(By.CSS_SELECTOR, "[data-confirm-ok]")
        assert not ok.is_enabled()
        typed.send_keys("docs")
        assert ok.is_enabled()


def _box(browser, element) -> dict:
    return browser.execute_script("return arguments[0].getBoundingClientRect().toJSON();", element)


def test_empty_states_and_setting_cards_keep_their_proportions(live_server, alice):
    from selenium.webdriver.common.by import By

    from hosting.services import site_create

    site = site_create(owner=alice, name="Docs", slug="docs")
    with chromium() as browser:
        _signed_in(browser, live_server, alice)
        browser.get(f"{live_server.url}/sites/{site.pk}/deployments/")
        button = browser.find_element(By.CSS_SELECTOR, ".empty .btn")
        assert button.text == "Go to files"
        icon = button.find_element(By.CSS_SELECTOR, ".icon")
        assert _box(browser, icon)["height"] <= _box(browser, button)["height"] / 1.5

        browser.get(f"{live_server.url}/sites/{site.pk}/settings/")
        for title in ("Availability", "Delete this site"):
            card = browser.find_element(By.XPATH, f"//section[.//h2[text()='{title}']]")
            text = card.find_element(By.CSS_SELECTOR, ".card-body p")
            heading = card.find_element(By.TAG_NAME, "h2")
            # The text lines up with the card's heading, inside the card's padding.
            assert _box(browser, text)["left"] == _box(browser, heading)["left"]
            assert _box(browser, text)["left"] - _box(browser, card)["left"] >= 16


def test_rename_popover_stays_above_toasts(live_server, alice):
    from selenium.webdriver.common.by import By

    from hosting.files.operations import text_save
    from hosting.services import site_create

    site = site_create(owner=alice, name="Docs", slug="docs")
    for number in range(3):
        text_save(site=site, path=f"page-{number}.html", content="<p>hi</p>")
    with chromium(1280, 600) as browser:
        _signed_in(browser, live_server, alice)
        browser.get(f"{live_server.url}/sites/{site.pk}/files/")
        browser.execute_script("Berth.toast('Uploaded 3 files.', 'error');")
        last = browser.find_elements(By.CSS_SELECTOR, "summary[aria-label^='Rename or move']")[-1]
        last.click()
        body = browser.find_elements(By.CSS_SELECTOR, "details[open] .popover-body")[0]
        browser.execute_script("arguments[0].scrollIntoView({block: 'end'});", body)
        toast = _box(browser, browser.find_element(By.CSS_SELECTOR, ".toast"))
        for field in body.find_elements(By.CSS_SELECTOR, "input[type=text], button"):
            box = _box(browser, field)
            x, y = box["left"] + box["width"] / 2, box["top"] + box["height"] / 2
            hit = browser.execute_script(
                "return document.elementFromPoint(arguments[0], arguments[1]);", x, y
            )
            assert hit == field or field in hit.find_elements(By.XPATH, "ancestor::*")
        # The popover and the toast did share screen space: the check above was not vacuous.
        assert _box(browser, body)["bottom"] > toast["top"]
