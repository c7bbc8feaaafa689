"""Headless Chromium for the tests that drive real pages (Debian's chromium + chromedriver)."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager

from conftest import require_binary


@contextmanager
def chromium(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = require_binary("chromium")
    driver_path = require_binary("chromedriver")
    profile = tempfile.mkdtemp(prefix="berth-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver) -> list[str]:
    """Console errors so far, e.g. Content-Security-Policy violations."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def click_and_wait(driver, element, timeout: float = 10) -> None:
    """Click something that loads a new page, and wait until the old page is gone."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, timeout).until(lambda driver: _gone(old))


def _gone(element) -> bool:
    """Has ``element``'s page been replaced? Chromium says so either as a stale reference or,
    mid-navigation, as a node that "does not belong to the document"."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False
