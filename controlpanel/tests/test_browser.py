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


def test_pages_fit_a_phone_screen(live_server, alice):
    """At phone width no page scrolls sideways: wide tables scroll inside their card."""
    import io

    from django.conf import settings
    from django.test import Client

    from deployments.tests.test_views import git_deployment
    from domains.services import domain_add
    from hosting.files.backends import tree_for

    deployment = git_deployment(alice, status="failed", name="A rather long site name")
    site = deployment.site
    tree_for(site).save("a-long-file-name-for-a-narrow-screen.html", io.BytesIO(b"<h1>x</h1>"))
    domain_add(owner=alice, name="a-long-domain-name-for-phones.example.org", site=site)
    client = Client()
    client.force_login(alice)
    pages = [
        "/dashboard/",
        "/sites/",
        f"/sites/{site.pk}/",
        f"/sites/{site.pk}/files/",
        "/deployments/",
        f"/deployments/{deployment.pk}/",
        "/domains/",
        "/settings/",
    ]
    with chromium(width=390, height=844) as browser:
        browser.get(live_server.url + "/health")
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})
        for path in pages:
            browser.get(live_server.url + path)
            assert "Sign in" not in browser.title
            wide = browser.execute_script(
                "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
            )
            assert wide[0] <= wide[1], f"{path} is {wide[0]}px wide on a {wide[1]}px screen"
