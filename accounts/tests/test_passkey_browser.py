"""Passkeys in a real browser: Chromium with a virtual authenticator (the DevTools protocol's
WebAuthn domain stands in for a phone or a security key) registers a passkey in the settings,
then signs in with it alone, no password typed."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import PASSWORD, make_user
from controlpanel.tests.browser import chromium, click_and_wait, console_errors

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _virtual_authenticator(browser) -> str:
    """A platform authenticator that keeps discoverable credentials and verifies its user."""
    browser.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    added = browser.execute_cdp_cmd(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return added["authenticatorId"]


def _submit(browser) -> None:
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))


def _reauthenticate_if_asked(browser) -> None:
    if "/accounts/reauthenticate/" in browser.current_url:  # security settings ask again
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        _submit(browser)


def test_register_a_passkey_then_sign_in_with_it(live_server):
    alice = make_user("alice@example.com", "Alice Liddell")
    url = live_server.url.replace("127.0.0.1", "localhost")  # a secure context for WebAuthn
    with chromium() as browser:
        authenticator = _virtual_authenticator(browser)
        browser.get(url + "/accounts/login/")
        browser.find_element(By.NAME, "login").send_keys(alice.email)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        _submit(browser)

        browser.get(url + "/accounts/2fa/webauthn/add/")
        _reauthenticate_if_asked(browser)
        name = browser.find_element(By.NAME, "name")
        name.clear()
        name.send_keys("Laptop")
        passwordless = browser.find_element(By.NAME, "passwordless")
        if not passwordless.is_selected():
            passwordless.click()
        click_and_wait(browser, browser.find_element(By.ID, "mfa_webauthn_add"))
        key = Authenticator.objects.get(user=alice, type=Authenticator.Type.WEBAUTHN)
        assert key.wrap().name == "Laptop" and key.wrap().is_passwordless
        credentials = browser.execute_cdp_cmd(
            "WebAuthn.getCredentials", {"authenticatorId": authenticator}
        )["credentials"]
        assert len(credentials) == 1 and credentials[0]["isResidentCredential"]

        browser.get(url + "/dashboard/")
        click_and_wait(browser, browser.find_element(By.XPATH, "//button[contains(., 'Sign out')]"))
        browser.get(url + "/dashboard/")
        assert "/accounts/login/" in browser.current_url  # signed out

        browser.get(url + "/accounts/login/")
        click_and_wait(browser, browser.find_element(By.ID, "passkey_login"))
        WebDriverWait(browser, 10).until(lambda b: "/accounts/login/" not in b.current_url)
        browser.get(url + "/dashboard/")
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Welcome")
        used = browser.execute_cdp_cmd(
            "WebAuthn.getCredentials", {"authenticatorId": authenticator}
        )["credentials"]
        assert used[0]["signCount"] > credentials[0]["signCount"]
        assert not [e for e in console_errors(browser) if "Content Security Policy" in e]
