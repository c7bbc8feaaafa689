"""A newcomer's first minutes in a real browser: every page satisfies the CSP."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from accounts.models import User
from controlpanel.tests.browser import chromium, click_and_wait, console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_dashboard_theme_and_sign_out(live_server):
    with chromium() as browser:
        browser.get(live_server.url + "/")
        assert "Put your sites on the web" in browser.page_source
        click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Get started"))

        browser.find_element(By.NAME, "name").send_keys("Ada Lovelace")
        browser.find_element(By.NAME, "email").send_keys("ada@example.com")
        browser.find_element(By.NAME, "password1").send_keys("analytical engine 1843")
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Welcome, Ada"
        assert User.objects.filter(email="ada@example.com", name="Ada Lovelace").exists()
        # The welcome toast is shown (messages as toasts).
        assert browser.find_elements(By.CSS_SELECTOR, ".toast")

        browser.get(live_server.url + "/settings/appearance/")
        light_bg = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        browser.find_element(By.CSS_SELECTOR, "input[name=theme][value=dark]").click()
        click_and_wait(
            browser, browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
        )
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("data-theme") == "dark"
        browser.get(live_server.url + "/dashboard/")
        dark_bg = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert dark_bg != light_bg

        for path in ("/settings/tokens/", "/settings/sessions/", "/settings/security/", "/"):
            browser.get(live_server.url + path)
        errors = [e for e in console_errors(browser) if "Content Security Policy" in e]
        assert errors == []

        browser.get(live_server.url + "/dashboard/")
        click_and_wait(browser, browser.find_element(By.XPATH, "//button[contains(., 'Sign out')]"))
        assert "Sign in" in browser.page_source
