"""A site slowed down for its bandwidth (a plan's "throttle" overage) is served at its rate by
both servers: a real daphne running the embedded site server, and a real nginx from the edge's
generated config (``limit_rate``). Other sites keep their full speed.

The checks are lower bounds: a body of N bytes at R bytes a second cannot arrive whole in less
than about N / R seconds, however fast or slow the machine is (a slower machine only takes
longer), so they do not depend on this machine's speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.services import site_set_rate_limit
from hosting.serving.edge import edge_config_path, edge_sync
from hosting.tests.serving_support import free_port, http_get, start_asgi_server, stop
from hosting.tests.test_edge import edge  # noqa: F401  (the nginx edge fixture)
from hosting.tests.test_serving_processes import shared_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RATE = 32 * 1024  # bytes a second
BODY = bytes(range(256)) * 512  # 128 KiB: four seconds at the rate


def timed_get(get, host: str, path: str):
    started = time.monotonic()
    answer = get(host, path)
    return answer, time.monotonic() - started


def publish_two_sites(alice):
    slow = make_site(alice, slug="slowed")
    fast = make_site(alice, slug="full-speed")
    for site in (slow, fast):
        deployment_publish(
            site=site, files=files({"index.html": b"<h1>hi</h1>", "big.bin": BODY}), source="upload"
        )
    site_set_rate_limit(site=slow, rate=RATE)
    return slow, fast


def test_the_embedded_server_serves_a_slowed_site_at_its_rate(alice, tmp_path):
    publish_two_sites(alice)
    port = free_port()
    server = start_asgi_server("daphne", port, shared_environment(tmp_path), ROOT)
    try:

        def get(host, path):
            return http_get(port, f"{host}.localhost:8000", path)

        answer, took = timed_get(get, "slowed", "/big.bin")
        assert answer.status == 200 and answer.body == BODY  # whole, only slower
        assert took >= len(BODY) / RATE - 1
        assert get("full-speed", "/big.bin").body == BODY
        assert get("slowed", "/").body == b"<h1>hi</h1>"
    finally:
        stop(server)


def test_nginx_serves_a_slowed_site_at_its_rate(alice, edge):  # noqa: F811
    slow, _ = publish_two_sites(alice)
    edge_sync()
    assert f"limit_rate {RATE};" in edge_config_path().read_text()
    nginx = edge()

    def get(host, path):
        return nginx.get(f"{host}.localhost", path)

    answer, took = timed_get(get, "slowed", "/big.bin")
    assert answer.status == 200 and answer.body == BODY
    # nginx lets the first second's worth go at once, then keeps to the rate.
    assert took >= len(BODY) / RATE - 1.5
    assert get("full-speed", "/big.bin").body == BODY

    site_set_rate_limit(site=slow, rate=None)  # the month ended, or the plan was upgraded
    assert edge_sync().reloaded
    assert "limit_rate" not in edge_config_path().read_text()
    assert get("slowed", "/big.bin").body == BODY
