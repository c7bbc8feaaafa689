"""The nginx edge: trees, atomic switches without reloads, reloads when routes change, TLS."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from conftest import self_signed_certificate
from deployments.services import deployment_publish, deployment_rollback
from deployments.tests.factories import files, make_site
from hosting import hostnames
from hosting.hostnames import HostRoute
from hosting.serving.app import HostRouter
from hosting.serving.edge import edge_config_path, edge_sync
from hosting.tests.serving_support import Nginx, asgi_get, free_port, http_get
from hosting.tests.test_serving_contract import _no_django, eventually

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def edge(settings, tmp_path):
    port, tls_port = free_port(), free_port()
    settings.VAR_DIR = tmp_path / "var"
    settings.EDGE_ROOT = tmp_path / "edge"
    settings.EDGE_CONFIG = ""
    settings.EDGE_ACCESS_LOG = ""
    settings.EDGE_LISTEN = f"127.0.0.1:{port}"
    settings.EDGE_LISTEN_TLS = f"127.0.0.1:{tls_port}"
    settings.EDGE_NGINX_USER = "root" if os.geteuid() == 0 else ""
    settings.EDGE_RELOAD_COMMAND = ""
    settings.EDGE_TREE_GRACE = 0
    state = {"nginx": None}

    def start() -> Nginx:
        state["nginx"] = Nginx(settings.EDGE_ROOT, edge_config_path(), port).start()
        state["nginx"].tls_port = tls_port
        return state["nginx"]

    yield start
    if state["nginx"]:
        state["nginx"].stop()


def test_a_deploy_swaps_the_symlink_without_a_reload(edge, alice, settings):
    site = make_site(alice, slug="swap")
    first = deployment_publish(site=site, files=files({"index.html": b"v1"}), source="upload")
    result = edge_sync()
    assert result.trees_built == 1 and result.config_changed and not result.reloaded
    nginx = edge()
    assert nginx.get("swap.localhost", "/").body == b"v1"
    config = edge_config_path().read_text()

    second = deployment_publish(site=site, files=files({"index.html": b"v2"}), source="upload")
    result = edge_sync()
    assert result.links_swapped == 1 and not result.config_changed and not result.reloaded
    assert edge_config_path().read_text() == config
    assert nginx.get("swap.localhost", "/").body == b"v2"  # at once: no reload involved
    live = Path(settings.EDGE_ROOT) / "live" / str(site.pk)
    assert os.readlink(live) == f"../sites/{second.pk}"
    # Kept: the first deployment still answers at its own address (pruned once deleted).
    assert (Path(settings.EDGE_ROOT) / "sites" / str(first.pk)).is_dir()

    restored = deployment_rollback(deployment=first)
    edge_sync()
    assert nginx.get("swap.localhost", "/").body == b"v1"
    assert os.readlink(live) == f"../sites/{restored.pk}"
    # The tree holds hard links into the blob cache, not copies.
    tree_file = Path(settings.EDGE_ROOT) / "sites" / str(restored.pk) / "index.html"
    assert tree_file.stat().st_nlink >= 2


def test_changed_rules_and_new_sites_reload_nginx(edge, alice):
    site = make_site(alice, slug="rules")
    deployment_publish(site=site, files=files({"index.html": b"home"}), source="upload")
    edge_sync()
    nginx = edge()
    assert nginx.get("rules.localhost", "/old").status == 404
    deployment_publish(
        site=site,
        files=files({"index.html": b"home", "_redirects": b"/old /  301\n"}),
        source="upload",
    )
    result = edge_sync()
    assert result.config_changed and result.reloaded
    moved = eventually(lambda: nginx.get("rules.localhost", "/old"), 301)
    assert moved.status == 301 and moved.header("location") == "/"

    other = make_site(alice, slug="second")
    deployment_publish(site=other, files=files({"index.html": b"two"}), source="upload")
    assert edge_sync().reloaded
    assert eventually(lambda: nginx.get("second.localhost", "/"), 200).body == b"two"


def _certificate(tmp_path: Path, hostname: str) -> tuple[str, str]:
    return self_signed_certificate(tmp_path, hostname, [hostname])


class CustomDomains:
    """A route provider like the domains app's: a TLS apex and a www redirecting to it."""

    def __init__(self):
        self.routes_by_host: dict[str, HostRoute] = {}

    def routes(self, site_ids=None):
        ids = None if site_ids is None else {str(s) for s in site_ids}
        return [r for r in self.routes_by_host.values() if ids is None or str(r.site_id) in ids]

    def route_for_host(self, hostname):
        return self.routes_by_host.get(hostname)


@pytest.fixture
def provider():
    custom = CustomDomains()
    hostnames.register_provider(custom)
    yield custom
    hostnames._providers.remove(custom)


def test_custom_domains_with_tls_redirects_and_acme(edge, alice, provider, tmp_path, settings):
    site = make_site(alice, slug="shop")
    deployment_publish(site=site, files=files({"index.html": b"shop home"}), source="upload")
    cert = _certificate(tmp_path, "shop.example.test")
    provider.routes_by_host = {
        "shop.example.test": HostRoute("shop.example.test", site.pk, certificate=cert),
        "www.shop.example.test": HostRoute(
            "www.shop.example.test", site.pk, redirect_to="shop.example.test"
        ),
    }
    hostnames.hostnames_changed.send(sender=None, site_id=site.pk)
    edge_sync()
    config = edge_config_path().read_text()
    assert f"listen {settings.EDGE_LISTEN_TLS} ssl;" in config and cert[0] in config
    nginx = edge()

    # HTTPS with the site's certificate (SNI), serving the site.
    context = ssl.create_default_context(cafile=cert[0])
    raw = socket.create_connection(("127.0.0.1", nginx.tls_port), timeout=10)
    with context.wrap_socket(raw, server_hostname="shop.example.test") as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: shop.example.test\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"shop home")

    # Plain HTTP on that hostname goes to HTTPS; www redirects to the apex.
    plain = nginx.get("shop.example.test", "/a?b=1")
    assert plain.status == 301 and plain.header("location") == "https://shop.example.test/a?b=1"
    www = nginx.get("www.shop.example.test", "/x")
    assert www.status == 301 and www.header("location") == "http://shop.example.test/x"

    # A renewal written over the same files changes the config: nginx reloads.
    assert not edge_sync().reloaded
    renewed = _certificate(tmp_path, "shop.example.test")
    assert renewed == cert
    assert edge_sync().reloaded

    # ACME HTTP-01: nginx serves the file the domains app writes, on any site hostname.
    token_dir = Path(settings.EDGE_ROOT) / "acme" / ".well-known" / "acme-challenge"
    (token_dir / "tok123").write_text("tok123.keyauth")
    for host in ("shop.localhost", "shop.example.test", "www.shop.example.test"):
        acme = nginx.get(host, "/.well-known/acme-challenge/tok123")
        assert acme.status == 200 and acme.body == b"tok123.keyauth", host

    # The embedded server asks the registered responder, and routes custom hostnames too.
    responder = {"tok123": "tok123.keyauth"}.get
    hostnames.register_challenge_responder(responder)
    try:
        embedded = HostRouter(_no_django)
        acme = asgi_get(embedded, "shop.example.test", "/.well-known/acme-challenge/tok123")
        assert acme.status == 200 and acme.body == b"tok123.keyauth"
        assert asgi_get(embedded, "shop.example.test", "/").body == b"shop home"
        moved = asgi_get(embedded, "www.shop.example.test:8000", "/x?y=1")
        assert moved.status == 301
        assert moved.header("location") == "http://shop.example.test:8000/x?y=1"
    finally:
        hostnames._challenge_responders.remove(responder)


def test_edge_and_embedded_server_with_s3_blobs(
    edge, alice, settings, monkeypatch, tmp_path, moto_endpoint
):
    """Blobs in S3 (moto's server on loopback): the edge downloads each blob once into its
    cache; the embedded server streams from storage.open in worker threads."""
    from hosting.tests.conftest import use_s3

    use_s3(settings, monkeypatch, moto_endpoint, tmp_path / "unused")
    site = make_site(alice, slug="remote")
    page = b"<p>remote</p>" * 50
    big = bytes(range(256)) * 2048  # 512 KiB: streamed, not kept in memory
    deployment_publish(
        site=site,
        files=files({"index.html": page, "copy.html": page, "big.bin": big}),
        source="upload",
    )
    edge_sync()
    nginx = edge()
    assert nginx.get("remote.localhost", "/copy").body == page
    zipped = nginx.get("remote.localhost", "/", {"Accept-Encoding": "gzip"})
    assert zipped.header("content-encoding") == "gzip"
    cached = list((Path(settings.EDGE_ROOT) / "blobs").glob("*/*/*"))
    assert len(cached) == 4  # page, its .gz and .br, big.bin: once, whatever uses them
    embedded = HostRouter(_no_django)
    for get in (
        lambda *a: asgi_get(embedded, "remote.localhost", *a),
        lambda *a: nginx.get("remote.localhost", *a),
    ):
        assert get("/copy").body == page
        assert get("/big.bin").body == big
        part = get("/big.bin", {"Range": "bytes=300000-300009"})
        assert part.status == 206 and part.body == big[300000:300010]


def test_edge_sync_command_and_a_refused_config(edge, alice, settings):
    site = make_site(alice, slug="cmd")
    deployment_publish(site=site, files=files({"index.html": b"x"}), source="upload")
    from io import StringIO

    out = StringIO()
    call_command("edge_sync", "--no-reload", stdout=out)
    assert "1 trees built" in out.getvalue() and "config changed" in out.getvalue()
    nginx = edge()
    assert nginx.get("cmd.localhost", "/").body == b"x"
    # A config nginx refuses is never installed: the running one stays.
    settings.EDGE_LISTEN = "not-a-port:x:y"
    before = edge_config_path().read_text()
    from hosting.serving.edge import EdgeError

    with pytest.raises(EdgeError):
        edge_sync()
    assert edge_config_path().read_text() == before
    assert http_get(nginx.port, "cmd.localhost", "/").body == b"x"
    assert (
        subprocess.run(
            [
                nginx.binary,
                "-t",
                "-q",
                "-p",
                str(settings.EDGE_ROOT),
                "-c",
                str(edge_config_path()),
            ],
            capture_output=True,
        ).returncode
        == 0
    )


def test_routes_that_could_inject_config_are_refused(edge, alice, provider):
    site = make_site(alice, slug="safe")
    deployment_publish(site=site, files=files({"index.html": b"x"}), source="upload")
    provider.routes_by_host = {
        "ok.example.test": HostRoute("ok.example.test", site.pk),
        "bad": HostRoute("evil.test; include /etc/passwd", site.pk),
        "bad-cert": HostRoute("c.example.test", site.pk, certificate=('/x"; y', "/k")),
    }
    result = edge_sync()
    config = edge_config_path().read_text()
    assert "ok.example.test" in config and "evil.test" not in config
    assert "c.example.test" not in config and len(result.problems) == 2


def test_deploys_queue_an_edge_sync_when_the_edge_is_enabled(edge, alice, settings, monkeypatch):
    from controlpanel.celery import app

    settings.EDGE_ENABLED = True
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    site = make_site(alice, slug="auto")
    first = deployment_publish(site=site, files=files({"index.html": b"1"}), source="upload")
    live = Path(settings.EDGE_ROOT) / "live" / str(site.pk)
    assert os.readlink(live) == f"../sites/{first.pk}"  # synced by the task, after commit
    from hosting.services import site_set_offline

    site.refresh_from_db()
    site_set_offline(site=site, offline=True)
    assert not live.exists() and "return 503" in edge_config_path().read_text()


def test_a_plain_site_answers_identically_on_both_servers(edge, alice):
    """No 404.html, no _headers, ordinary rules only: the other shape of generated config."""
    from hosting.tests.test_serving_contract import KEY_HEADERS

    site = make_site(alice, slug="plain")
    deployment_publish(
        site=site,
        files=files(
            {
                "index.html": b"<p>plain</p>" * 40,
                "guide/index.html": b"guide",
                "_redirects": b"/old/*  /guide/  301\n/spa/*  /index.html  200\n",
            }
        ),
        source="upload",
    )
    edge_sync()
    nginx = edge()
    embedded = HostRouter(_no_django)
    for path, headers in [
        ("/", {}),
        ("/", {"Accept-Encoding": "br"}),
        ("/missing", {}),
        ("/guide", {}),
        ("/guide/", {}),
        ("/old/x?y=1", {}),
        ("/spa/deep/link", {}),
        ("/index.html", {"Range": "bytes=0-4"}),
    ]:
        ours = asgi_get(embedded, "plain.localhost", path, headers)
        theirs = nginx.get("plain.localhost", path, headers)
        assert (ours.status, ours.body) == (theirs.status, theirs.body), path
        for key in KEY_HEADERS:
            assert ours.header(key) == theirs.header(key), (path, key)
    assert nginx.get("plain.localhost", "/missing").status == 404
