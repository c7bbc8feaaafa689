"""A site slowed down for its bandwidth (a plan's "throttle" overage) is served at its rate by
both servers: the embedded site server paces its body (checked on a virtual clock, so nothing
depends on this machine's speed) and still sends it whole through a real daphne; nginx gets
``limit_rate`` for the site and its deployment addresses and sends the body whole. Other sites
keep their full speed."""

from __future__ import annotations

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

        answer = get("slowed", "/big.bin")
        assert answer.status == 200 and answer.body == BODY  # whole, only slower
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

    answer = get("slowed", "/big.bin")
    assert answer.status == 200 and answer.body == BODY
    assert get("full-speed", "/big.bin").body == BODY

    site_set_rate_limit(site=slow, rate=None)  # the month ended, or the plan was upgraded
    assert edge_sync().reloaded
    assert "limit_rate" not in edge_config_path().read_text()
    assert get("slowed", "/big.bin").body == BODY


class VirtualClock:
    """Time that passes only when the throttle waits."""

    def __init__(self):
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_the_embedded_server_paces_a_slowed_site_and_not_others(alice, monkeypatch, settings):
    from hosting.serving import throttle
    from hosting.serving.app import HostRouter
    from hosting.tests.serving_support import asgi_get

    async def django_stub(scope, receive, send):
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"django"})

    virtual = VirtualClock()
    monkeypatch.setattr(throttle.Throttled, "clock", staticmethod(virtual.clock))
    monkeypatch.setattr(throttle.Throttled, "sleep", staticmethod(virtual.sleep))
    publish_two_sites(alice)
    router = HostRouter(django_stub)

    assert asgi_get(router, "full-speed.localhost", "/big.bin").body == BODY
    assert virtual.waits == []  # full speed: never held back
    assert asgi_get(router, "slowed.localhost", "/big.bin").body == BODY
    # Every slice but the last waits its turn: the body takes its size over the rate.
    step = max(1024, RATE // 8)
    assert virtual.now == pytest.approx((len(BODY) - step) / RATE)
    assert len(virtual.waits) == len(BODY) // step - 1
