"""WordPress on a custom domain over HTTPS through the nginx edge, with a certificate from a
real ACME CA (pebble), and WordPress's own REST API through an application password (which
WordPress only offers over HTTPS)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import socket
import ssl
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest

from conftest import free_port
from domains import certificates
from domains import services as domain_services
from domains.models import Certificate
from domains.tests.conftest import pdns, pdns_server, pebble, pebble_server  # noqa: F401
from domains.tests.test_serving_integration import eventually, world_zone
from hosting.models import Site
from hosting.serving.edge import edge_config_path, edge_sync
from hosting.tests.serving_support import Nginx
from wordpress.tests.conftest import settled
from wordpress.tests.test_provisioning import create, title_of

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "blog.example"


class _Connection(http.client.HTTPSConnection):
    """TLS to nginx on loopback, asking for ``hostname`` (SNI) and checking its certificate."""

    def __init__(self, port: int, hostname: str, context: ssl.SSLContext):
        super().__init__("127.0.0.1", port, context=context, timeout=30)
        self.hostname = hostname

    def connect(self):
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.hostname)


class HttpsBrowser:
    """A small HTTPS client with cookies, for one hostname."""

    def __init__(self, port: int, hostname: str, cafile: str):
        self.port, self.hostname = port, hostname
        self.context = ssl.create_default_context(cafile=cafile)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"", headers=None):
        headers = {"Host": self.hostname, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = _Connection(self.port, self.hostname, self.context)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            for morsel in SimpleCookie(value).values():
                if morsel.value.strip() and morsel.value != "deleted":
                    self.cookies[morsel.key] = morsel.value
        return response.status, response.headers, data

    def get(self, path: str, headers=None):
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, payload: dict, headers=None):
        body = json.dumps(payload).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/json", **(headers or {})}
        )


@pytest.fixture
def edge_settings(settings, tmp_path, pebble):  # noqa: F811 - the fixture of domains' tests
    settings.EDGE_ROOT = tmp_path / "edge"
    settings.EDGE_CONFIG = ""
    settings.EDGE_ACCESS_LOG = ""
    settings.EDGE_LISTEN = f"127.0.0.1:{pebble.http_port}"
    settings.EDGE_LISTEN_TLS = f"127.0.0.1:{free_port()}"
    settings.EDGE_NGINX_USER = "root" if os.geteuid() == 0 else ""
    settings.EDGE_RELOAD_COMMAND = ""
    settings.EDGE_TREE_GRACE = 0
    settings.ACME_AUTO_ISSUE = False  # the test asks for its certificate itself
    return settings


def test_wordpress_over_https_on_a_custom_domain_and_its_rest_api(
    wp_worker,
    api,
    alice,
    pdns,  # noqa: F811
    pebble,  # noqa: F811
    edge_settings,
):
    site = settled(create(api, "Secure").json()["id"])
    assert site.status == Site.Status.ONLINE
    wp_worker.stop()  # the certificate is issued here, in this process, with the test's CA
    domain = domain_services.domain_add(owner=alice, name=HOST, site=site)
    world_zone(pdns, HOST, domain.verification_token)
    domain_services.domain_verify(domain=domain)
    edge_sync()
    settings = edge_settings
    http_port = pebble.http_port
    nginx = Nginx(settings.EDGE_ROOT, edge_config_path(), http_port).start()
    try:
        # The ACME CA checks HTTP-01 through the edge, in front of WordPress.
        cert = certificates.certificate_request(domain=domain, challenge="http-01")
        cert = certificates.certificate_issue(certificate_id=cert.pk)
        assert cert.status == Certificate.Status.ACTIVE, cert.error
        edge_sync()  # the certificate reaches the edge: a TLS server for the hostname
        tls_port = int(settings.EDGE_LISTEN_TLS.rsplit(":", 1)[1])
        browser = HttpsBrowser(tls_port, HOST, str(pebble.trust_anchor()))

        def home():
            try:
                return browser.get("/")
            except OSError:  # the TLS listener appears with the reload
                return None

        status, _, body = eventually(home)
        assert status == 200 and "Secure title" in title_of(body)
        # WordPress knows it is served over HTTPS: its own links say so.
        assert f"https://{HOST}/".encode() in body and f"http://{HOST}/".encode() not in body

        # The owner logs in from the panel, over HTTPS.
        link = urlsplit(api.post(f"/api/sites/{site.pk}/wordpress/login").json()["url"])
        status, headers, _ = browser.get(f"{link.path}?{link.query}")
        assert status == 302 and headers["Location"] == f"https://{HOST}/wp-admin/"
        assert any(name.startswith("wordpress_sec_") for name in browser.cookies)
        status, _, dashboard = browser.get("/wp-admin/")
        assert status == 200 and b"Dashboard" in dashboard

        # An application password, made through WordPress's REST API as the signed-in owner...
        _, _, nonce = browser.get("/wp-admin/admin-ajax.php?action=rest-nonce")
        status, _, made = browser.post_json(
            "/wp-json/wp/v2/users/me/application-passwords",
            {"name": "Deploy script"},
            {"X-WP-Nonce": nonce.decode().strip()},
        )
        assert status == 201, made[:500]
        password = json.loads(made)["password"]

        # ...lets a script with no cookies publish a post.
        script = HttpsBrowser(tls_port, HOST, str(pebble.trust_anchor()))
        token = base64.b64encode(f"owner:{password}".encode()).decode()
        status, _, post = script.post_json(
            "/wp-json/wp/v2/posts",
            {"title": "Written by a script", "content": "Over HTTPS.", "status": "publish"},
            {"Authorization": f"Basic {token}"},
        )
        assert status == 201, post[:500]
        assert json.loads(post)["link"].startswith(f"https://{HOST}/")
        wrong = base64.b64encode(b"owner:not the password").decode()
        status, _, _ = script.post_json(
            "/wp-json/wp/v2/posts",
            {"title": "Forged", "status": "publish"},
            {"Authorization": f"Basic {wrong}"},
        )
        assert status == 401
        status, _, body = HttpsBrowser(tls_port, HOST, str(pebble.trust_anchor())).get("/")
        assert status == 200 and b"Written by a script" in body and b"Forged" not in body
        assert re.search(rb"<title>[^<]*Secure title", body)
    finally:
        nginx.stop()
