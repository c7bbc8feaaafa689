"""Two-factor sign-in in a real browser: set up an authenticator app (its codes computed with
pyotp from the secret the page shows), sign out, sign in again with password and code."""

from __future__ import annotations

import time

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from selenium.webdriver.common.by import By

from conftest import PASSWORD, make_user
from controlpanel.tests.browser import chromium, click_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(browser, url):
    browser.get(url + "/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys("alice@example.com")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))


def _fresh_code(secret: str, used: set[str]) -> str:
    """The current code, once it differs from those already used (a code is good once)."""
    for _ in range(70):
        code = pyotp.TOTP(secret).now()
        if code not in used:
            used.add(code)
            return code
        time.sleep(1)
    raise AssertionError("no new TOTP code appeared")


def test_set_up_an_authenticator_then_sign_in_with_a_code(live_server):
    make_user("alice@example.com", "Alice Liddell")
    used: set[str] = set()
    with chromium() as browser:
        _sign_in(browser, live_server.url)
        browser.get(live_server.url + "/accounts/2fa/totp/activate/")
        if "/accounts/reauthenticate/" in browser.current_url:  # security settings ask again
            browser.find_element(By.NAME, "password").send_keys(PASSWORD)
            click_and_wait(
                browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]")
            )
        secret = browser.find_element(By.ID, "authenticator_secret").get_attribute("value")
        assert secret
        browser.find_element(By.NAME, "code").send_keys(_fresh_code(secret, used))
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
        assert Authenticator.objects.filter(user__email="alice@example.com", type="totp").exists()

        browser.get(live_server.url + "/dashboard/")
        click_and_wait(browser, browser.find_element(By.XPATH, "//button[contains(., 'Sign out')]"))
        _sign_in(browser, live_server.url)
        assert "/accounts/2fa/authenticate/" in browser.current_url
        browser.find_element(By.NAME, "code").send_keys("000000" if "000000" not in used else "1")
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
        assert "/accounts/2fa/authenticate/" in browser.current_url  # a wrong code is refused
        field = browser.find_element(By.NAME, "code")
        field.clear()
        field.send_keys(_fresh_code(secret, used))
        click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
        browser.get(live_server.url + "/dashboard/")
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Welcome")
