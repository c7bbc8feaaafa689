"""Custom domains on the real site servers: the embedded server and nginx serve verified domains,
answer HTTP-01 for pebble, and nginx serves the site over HTTPS with the issued certificate.

The last test is the whole custom-domain journey (add, verify, certificate, served over HTTPS),
through the API a user (or the pages) calls.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time

import pytest
from django.core.asgi import get_asgi_application

from conftest import free_port
from controlpanel.celery import app as celery_app
from deployments.services import deployment_publish
from deployments.tests.factories import files
from domains import certificates, services
from domains.models import Certificate
from domains.tests.factories import make_site, registered_through_api
from hosting.serving.app import HostRouter
from hosting.serving.edge import edge_config_path, edge_sync
from hosting.tests.serving_support import Nginx, asgi_get

pytestmark = pytest.mark.django_db(transaction=True)

HOME = b"<!doctype html><title>Shop</title><p>shop home</p>"


async def panel(scope, receive, send):
    """Stands for Django: where the embedded server sends hostnames that are not sites."""
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"panel"})


def embedded():
    return HostRouter(panel)


@pytest.fixture
def edge(settings, tmp_path, pebble_server):
    """nginx from the edge's generated config, its HTTP port being pebble's HTTP-01 port."""
    tls_port = free_port()
    settings.VAR_DIR = tmp_path / "var"
    settings.EDGE_CONFIG = ""
    settings.EDGE_ACCESS_LOG = ""
    settings.EDGE_LISTEN = f"127.0.0.1:{pebble_server.http_port}"
    settings.EDGE_LISTEN_TLS = f"127.0.0.1:{tls_port}"
    settings.EDGE_NGINX_USER = "root" if os.geteuid() == 0 else ""
    settings.EDGE_RELOAD_COMMAND = ""
    settings.EDGE_TREE_GRACE = 0
    state: dict = {}

    def start() -> Nginx:
        edge_sync()
        nginx = Nginx(settings.EDGE_ROOT, edge_config_path(), pebble_server.http_port).start()
        nginx.tls_port = tls_port
        state["nginx"] = nginx
        return nginx

    yield start
    if "nginx" in state:
        state["nginx"].stop()


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


class EmbeddedServer:
    """The embedded site server (HostRouter in front of Django) under uvicorn on a port."""

    def __init__(self, port: int):
        import uvicorn

        app = HostRouter(get_asgi_application())
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


def eventually(check, seconds: float = 10.0):
    """nginx applies a reload asynchronously: wait (bounded) for the new config to answer."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def https_get(port: int, host: str, cafile: str, path: str = "/") -> bytes:
    context = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with context.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    return data


def world_zone(pdns, zone: str, token: str | None = None) -> None:
    from domains.dns.pdns import PowerDNS, RRset

    rrsets = [
        RRset(zone, "A", 60, ("127.0.0.1",)),
        RRset(f"www.{zone}", "A", 60, ("127.0.0.1",)),
    ]
    if token:
        rrsets.append(RRset(f"_berth-verify.{zone}", "TXT", 60, (f'"{token}"',)))
    PowerDNS(pdns.api_url, pdns.api_key).zone_create(zone, ["ns1.elsewhere.net"], rrsets)


def test_a_verified_domain_is_served_by_the_embedded_server_and_nginx(alice, pdns, edge, pebble):
    site = make_site(alice, slug="shop")
    deployment_publish(site=site, files=files({"index.html": HOME}), source="upload")
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone(pdns, "customer.example", domain.verification_token)
    assert asgi_get(embedded(), "customer.example", "/").body == b"panel"  # not verified yet
    services.domain_verify(domain=domain)
    services.domain_update(domain=domain, redirect="www_to_apex")
    assert asgi_get(embedded(), "customer.example", "/").body == HOME
    moved = asgi_get(embedded(), "www.customer.example", "/a")
    assert moved.status == 301 and moved.header("location").endswith("customer.example/a")
    nginx = edge()
    assert nginx.get("customer.example", "/").body == HOME
    www = nginx.get("www.customer.example", "/a")
    assert www.status == 301 and "//customer.example/a" in www.header("location")
    # Detached: neither server answers for it any more.
    services.domain_update(domain=domain, site=None)
    edge_sync()
    assert asgi_get(embedded(), "customer.example", "/").body == b"panel"
    assert eventually(lambda: nginx.get("customer.example", "/").status != 200)


def test_http01_answered_by_the_embedded_site_server(alice, pdns, pebble):
    site = make_site(alice, slug="shop")
    deployment_publish(site=site, files=files({"index.html": HOME}), source="upload")
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone(pdns, "customer.example", domain.verification_token)
    services.domain_verify(domain=domain)
    server = EmbeddedServer(pebble.http_port)
    try:
        cert = certificates.certificate_request(domain=domain, challenge="http-01")
        cert = certificates.certificate_issue(certificate_id=cert.pk)
    finally:
        server.stop()
    assert cert.status == Certificate.Status.ACTIVE, cert.error


def test_http01_answered_by_nginx(alice, pdns, pebble, edge):
    site = make_site(alice, slug="shop")
    deployment_publish(site=site, files=files({"index.html": HOME}), source="upload")
    domain = services.domain_add(owner=alice, name="customer.example", site=site)
    world_zone(pdns, "customer.example", domain.verification_token)
    services.domain_verify(domain=domain)
    edge()
    cert = certificates.certificate_request(domain=domain, challenge="http-01")
    cert = certificates.certificate_issue(certificate_id=cert.pk)
    assert cert.status == Certificate.Status.ACTIVE, cert.error


def test_done_when_register_edit_attach_verify_certify_and_https_on_nginx(
    alice, api, pebble, edge, eager_celery, settings
):
    """Register a domain in the built-in registry, edit its zone, attach it to a site, see it
    verified, get a certificate from pebble, and the site answers over HTTPS on nginx.

    The edge is enabled: every route change queues an edge sync (eager here), as in production."""
    settings.EDGE_ENABLED = True
    site = make_site(alice, slug="shop")
    deployment_publish(site=site, files=files({"index.html": HOME}), source="upload")
    nginx = edge()

    check = api.get("/api/domains/check?name=shop.test").json()
    assert check["results"][0]["available"] is True
    price = check["results"][0]["price"]
    ordered = api.post(
        "/api/domains",
        {"name": "shop.test", "register": True, "confirmPrice": price},
        format="json",
    )
    domain = registered_through_api(api, ordered)  # registered once its invoice is paid

    records = f"/api/domains/{domain['id']}/records"
    added = api.post(records, {"name": "api", "type": "A", "content": "127.0.0.1"}, format="json")
    assert added.status_code == 201, added.json()

    attached = api.patch(f"/api/domains/{domain['id']}", {"siteId": str(site.pk)}, format="json")
    assert attached.json()["status"] == "verified" and attached.json()["isPrimary"] is True
    # The edge picked the new hostname up by itself.
    assert eventually(lambda: nginx.get("shop.test", "/").body == HOME)

    requested = api.post(f"/api/sites/{site.pk}/ssl", {"challenge": "http-01"}, format="json")
    assert requested.status_code == 202, requested.json()
    ssl_list = api.get(f"/api/sites/{site.pk}/ssl").json()["certificates"]
    assert ssl_list[0]["status"] == "active", ssl_list[0]["error"]
    assert ssl_list[0]["names"] == ["shop.test"] and ssl_list[0]["expiresAt"]

    anchor = str(pebble.trust_anchor())

    def answer():
        try:
            return https_get(nginx.tls_port, "shop.test", anchor)
        except OSError:  # the TLS listener appears with the reload
            return b""

    body = eventually(answer)
    assert body.startswith(b"HTTP/1.1 200") and body.endswith(HOME)
