"""A user registers a domain, edits its zone and attaches it to a site, in a real browser."""

from __future__ import annotations

import os

import pytest
from django.test import Client
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from controlpanel.tests.browser import chromium, click_and_wait, console_errors
from domains.models import Domain
from domains.tests.factories import make_site, pay_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(browser, name: str) -> None:
    folder = os.environ.get("BERTH_SCREENSHOTS")
    if folder:
        browser.save_screenshot(os.path.join(folder, f"domains-{name}.png"))


def test_register_edit_zone_and_attach(live_server, alice, pdns):
    site = make_site(alice, name="Portfolio", slug="portfolio")
    client = Client()
    client.force_login(alice)
    with chromium() as browser:
        browser.get(live_server.url + "/domains/")
        browser.add_cookie({"name": "sessionid", "value": client.cookies["sessionid"].value})
        browser.get(live_server.url + "/domains/")
        assert "No domains yet" in browser.page_source
        click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Register a domain"))
        browser.find_element(By.NAME, "q").send_keys("portfolio")
        click_and_wait(browser, browser.find_element(By.XPATH, "//button[contains(., 'Search')]"))
        assert "portfolio.test" in browser.page_source and "12.00 USD" in browser.page_source
        shot(browser, "search")
        row = browser.find_element(By.XPATH, "//tr[contains(., 'portfolio.test')]")
        Select(row.find_element(By.NAME, "years")).select_by_value("2")
        Select(row.find_element(By.NAME, "site")).select_by_visible_text("Portfolio")
        click_and_wait(browser, row.find_element(By.XPATH, ".//button[contains(., 'Register')]"))
        # The price is shown and confirmed before anything is charged.
        assert "Charged now" in browser.page_source and "24.00 USD" in browser.page_source
        assert not Domain.objects.filter(name="portfolio.test").exists()
        shot(browser, "confirm")
        pay = "//button[contains(., 'Pay 24.00 USD and register')]"
        click_and_wait(browser, browser.find_element(By.XPATH, pay))
        # Without online payment an invoice is issued: registered once the operator has it paid.
        assert "done as soon as the invoice is paid" in browser.page_source
        assert not Domain.objects.filter(name="portfolio.test").exists()
        shot(browser, "order")
        pay_orders()
        browser.refresh()
        assert "registered until" in browser.page_source
        click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Open the domain"))
        domain = Domain.objects.get(name="portfolio.test")
        assert domain.site == site and domain.is_verified and domain.days_to_expiry >= 729
        shot(browser, "detail")

        click_and_wait(browser, browser.find_element(By.LINK_TEXT, "DNS records"))
        browser.find_element(By.NAME, "name").clear()
        browser.find_element(By.NAME, "name").send_keys("@")
        Select(browser.find_element(By.NAME, "type")).select_by_value("MX")
        browser.find_element(By.NAME, "priority").send_keys("10")
        browser.find_element(By.NAME, "content").send_keys("mail.portfolio.test")
        click_and_wait(
            browser, browser.find_element(By.XPATH, "//button[contains(., 'Add record')]")
        )
        assert domain.records.filter(type="MX", priority=10).exists()
        assert "Managed by Berth" in browser.page_source  # the verification TXT record
        shot(browser, "zone")

        browser.get(f"{live_server.url}/domains/{domain.pk}/")
        Select(browser.find_element(By.NAME, "redirect")).select_by_value("www_to_apex")
        click_and_wait(browser, browser.find_element(By.XPATH, "//section[@id='site']//button"))
        domain.refresh_from_db()
        assert domain.redirect == "www_to_apex" and domain.is_primary
        assert "www.portfolio.test" in browser.page_source

        browser.get(live_server.url + "/domains/")
        assert "portfolio.test" in browser.page_source
        shot(browser, "list")
        errors = [e for e in console_errors(browser) if "Content Security Policy" in e]
        assert errors == []
