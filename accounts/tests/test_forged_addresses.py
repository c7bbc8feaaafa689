"""Client addresses cannot be forged, and sign-in is limited per account as well as per address.

A caller that rotates its own ``X-Forwarded-For`` header must neither escape the sign-in limits
nor write made-up addresses into the security log: the servers ``manage.py serve`` starts do not
rewrite the client address from headers, and the app believes only ``NUM_PROXIES`` hops.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import SecurityEvent
from conftest import PASSWORD, free_port
from controlpanel.http import client_ip

ROOT = Path(__file__).resolve().parents[2]
TOO_MANY = "Too many failed login attempts"


def forged(n: int) -> str:
    return f"203.0.113.{n % 250 + 1}"


class ServeProcess:
    """``manage.py serve --no-worker`` (daphne or uvicorn) on the test database."""

    def __init__(self, tmp_path: Path, server: str, cache_prefix: str):
        from deployments.tests.conftest import database_url

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "BERTH_READ_DOTENV": "0",
            "DATABASE_URL": database_url(),
            "BERTH_VAR_DIR": str(tmp_path / "var"),
            "DEBUG": "1",  # static files from the source tree, no collectstatic
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "NUM_PROXIES": "0",
            "CACHE_KEY_PREFIX": cache_prefix,  # this test's own rate-limit counters
            "PYTHONUNBUFFERED": "1",
        }
        self.log = tmp_path / "serve.log"
        command = [sys.executable, "manage.py", "serve", "--no-worker", "--server", server]
        self.proc = subprocess.Popen(
            [*command, "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(self.log.read_text(errors="replace"))
            try:
                requests.get(self.url + "/health", timeout=10)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture(params=["daphne", "uvicorn"])
def served(request, transactional_db, redis_url, tmp_path, settings):
    server = ServeProcess(tmp_path, request.param, settings.CACHES["default"]["KEY_PREFIX"])
    yield server
    server.stop()


@pytest.mark.slow
def test_rotating_forged_addresses_meet_the_sign_in_limits(served, alice, bob):
    """30 wrong passwords, each from a new forged X-Forwarded-For, over the API and the sign-in
    page of a real server: the limit is met, and the log records the real address."""
    api = [
        requests.post(
            served.url + "/api/auth/login",
            json={"email": "alice@example.com", "password": f"guess {n}"},
            headers={"X-Forwarded-For": forged(n)},
            timeout=10,
        ).status_code
        for n in range(30)
    ]
    assert api[:5] == [401] * 5 and set(api[5:]) == {429}, api
    # Not even the right password gets in while the limit holds.
    right = requests.post(
        served.url + "/api/auth/login",
        json={"email": "alice@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": forged(99)},
        timeout=10,
    )
    assert right.status_code == 429

    browser = requests.Session()
    page = browser.get(served.url + "/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answers = []
    for n in range(30):
        response = browser.post(
            served.url + "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "login": "bob@example.com", "password": f"g{n}"},
            headers={"X-Forwarded-For": forged(n)},
            timeout=10,
        )
        answers.append(TOO_MANY in response.text)
    assert answers.index(True) <= 5 and all(answers[answers.index(True) :]), answers

    failures = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGN_IN_FAILED)
    assert failures.count() >= 5
    assert set(failures.values_list("ip_address", flat=True)) == {"127.0.0.1"}


@pytest.mark.django_db
def test_api_sign_in_is_limited_per_account_across_real_addresses(alice):
    """Five failures for one account, each from a different (real) address: the sixth attempt,
    from yet another address and with the right password, is refused."""
    client = APIClient()
    codes = [
        client.post(
            "/api/auth/login",
            {"email": "alice@example.com", "password": "wrong"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{n}",
        ).status_code
        for n in range(1, 6)
    ]
    assert codes == [401] * 5
    refused = client.post(
        "/api/auth/login",
        {"email": "ALICE@example.com", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.77",
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    # Another account from those addresses is not held back.
    other = client.post(
        "/api/auth/login",
        {"email": "bob@example.com", "password": PASSWORD},
        format="json",
        REMOTE_ADDR="198.51.100.78",
    )
    assert other.status_code in (200, 401)


@pytest.mark.django_db
def test_sign_in_page_is_limited_per_account_across_real_addresses(alice):
    for n in range(1, 6):
        Client(REMOTE_ADDR=f"198.51.100.{n}").post(
            "/accounts/login/", {"login": "alice@example.com", "password": "wrong"}
        )
    page = Client(REMOTE_ADDR="198.51.100.66").post(
        "/accounts/login/", {"login": "alice@example.com", "password": PASSWORD}
    )
    assert page.status_code == 200 and TOO_MANY in page.content.decode()


@pytest.mark.django_db
def test_sign_up_page_is_limited_per_address(client):
    codes = [
        client.post(
            "/accounts/signup/",
            {"name": "N", "email": f"n{n}@example.com", "password1": "short"},
            HTTP_X_FORWARDED_FOR=forged(n),
        ).status_code
        for n in range(7)
    ]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "127.0.0.1", "203.0.113.9", "127.0.0.1"),  # no proxy: the header is the caller's
        (1, "10.0.0.2", "203.0.113.9, 198.51.100.4", "198.51.100.4"),  # what the proxy added
        (2, "10.0.0.2", "6.6.6.6, 198.51.100.4, 10.0.0.3", "198.51.100.4"),
        (2, "198.51.100.5", "6.6.6.6", "198.51.100.5"),  # fewer hops: did not pass the proxies
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", "not-an-address", None),
    ],
)
def test_client_ip_believes_only_trusted_hops(settings, proxies, remote, forwarded, expected):
    settings.NUM_PROXIES = proxies
    request = type("Request", (), {"META": {"REMOTE_ADDR": remote}})()
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(request) == expected
