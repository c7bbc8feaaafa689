"""The serving contract, checked against the embedded site server and a real nginx edge.

The same site is published once, served in-process by the embedded server and by nginx
(Debian's nginx-light, started on loopback from the config ``edge_sync`` renders), and every
point of the contract is asserted on both; then every answer is compared between the two.
"""

from __future__ import annotations

import gzip
import os
import time

import brotli
import pytest

from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.serving.app import HostRouter
from hosting.serving.edge import edge_config_path, edge_sync
from hosting.tests.serving_support import Nginx, asgi_get, free_port

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = b"<!doctype html><title>Home</title>" + b"<p>Welcome aboard.</p>" * 60
SCRIPT = b"console.log('app');\n" * 80
DATA = bytes(range(256)) * 20  # 5120 bytes, not compressible text
SITE = {
    "index.html": PAGE,
    "about.html": b"<h1>About</h1>",
    "docs/index.html": b"<h1>Docs</h1>",
    "docs/guide.html": b"<h1>Guide</h1>",
    "404.html": b"<h1>Custom not found</h1>",
    "assets/app.3f2a9c1b.js": SCRIPT,
    "assets/style.css": b"body { color: #123; }\n" * 30,
    "data.bin": DATA,
    "secret.txt": b"not for you",
    "posts/2024-hello.html": b"<h1>Hello post</h1>",
    "_redirects": b"""# Netlify-style rules
/old-page        /about                301
/first-wins      /about                302
/first-wins      /elsewhere            301
/later/*         /docs/                200
/later/special   /about                301
/temp            /about                302
/blog/:year/:slug  /posts/:year-:slug   301
/docs-old/*      /docs/:splat          302
/app/*           /index.html           200
/about           /elsewhere            301
/secret.txt      /about                301!
/gone            /404.html             404
/away            https://example.org/landing  308
bad line with too many fields here
""",
    "_headers": b"""/*
  X-Frame-Options: DENY
/assets/*
  X-Robots-Tag: noindex
/about
  Cache-Control: public, max-age=60
""",
}

GZIP = {"Accept-Encoding": "gzip"}
BR = {"Accept-Encoding": "gzip, deflate, br"}

# (name, path, request headers, method)
CASES = [
    ("index", "/", {}, "GET"),
    ("index-gzip", "/", GZIP, "GET"),
    ("index-br", "/", BR, "GET"),
    ("index-file", "/index.html", {}, "GET"),
    ("clean-url", "/about", {}, "GET"),
    ("html-file", "/about.html", {}, "GET"),
    ("dir-redirect", "/docs?x=1", {}, "GET"),
    ("dir-index", "/docs/", {}, "GET"),
    ("dir-clean", "/docs/guide", {}, "GET"),
    ("missing", "/nope", {}, "GET"),
    ("missing-dir", "/assets/", {}, "GET"),
    ("missing-head", "/nope", {}, "HEAD"),
    ("script", "/assets/app.3f2a9c1b.js", {}, "GET"),
    ("script-gzip", "/assets/app.3f2a9c1b.js", GZIP, "GET"),
    ("css", "/assets/style.css", {}, "GET"),
    ("binary", "/data.bin", {}, "GET"),
    ("head", "/data.bin", {}, "HEAD"),
    ("range", "/data.bin", {"Range": "bytes=10-19"}, "GET"),
    ("range-suffix", "/data.bin", {"Range": "bytes=-100"}, "GET"),
    ("range-open", "/data.bin", {"Range": "bytes=5000-"}, "GET"),
    ("range-416", "/data.bin", {"Range": "bytes=9000-9999"}, "GET"),
    ("range-multi", "/data.bin", {"Range": "bytes=0-1,5-6"}, "GET"),
    ("range-gzip-ignored", "/", {"Range": "bytes=0-9", **GZIP}, "GET"),
    ("redirect-301", "/old-page?q=2", {}, "GET"),
    ("redirect-302", "/temp", {}, "GET"),
    ("rules-in-order", "/first-wins", {}, "GET"),
    ("rules-in-order-splat", "/later/special", {}, "GET"),
    ("placeholders", "/blog/2024/hello", {}, "GET"),
    ("splat", "/docs-old/guide/part", {}, "GET"),
    ("rewrite", "/app/some/route", {}, "GET"),
    ("shadowed", "/about", {}, "GET"),
    ("forced", "/secret.txt", {}, "GET"),
    ("rule-404", "/gone", {}, "GET"),
    ("external", "/away", {}, "GET"),
    ("internal-prefix", "/.berth-internal/404", {}, "GET"),
    ("rules-hidden", "/_redirects", {}, "GET"),
]
KEY_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-range",
    "etag",
    "last-modified",
    "cache-control",
    "vary",
    "location",
    "accept-ranges",
    "x-frame-options",
    "x-robots-tag",
)


@pytest.fixture
def contract(settings, tmp_path, alice):
    """The contract site published, an edge rendered for it, nginx running."""
    port = free_port()
    settings.VAR_DIR = tmp_path / "var"
    settings.EDGE_ROOT = tmp_path / "edge"
    settings.EDGE_CONFIG = ""
    settings.EDGE_ACCESS_LOG = ""
    settings.EDGE_LISTEN = f"127.0.0.1:{port}"
    settings.EDGE_LISTEN_TLS = f"127.0.0.1:{free_port()}"
    settings.EDGE_NGINX_USER = "root" if os.geteuid() == 0 else ""
    settings.EDGE_RELOAD_COMMAND = ""
    settings.SITES_DOMAIN = "localhost"
    site = make_site(alice, name="Contract", slug="contract")
    deployment = deployment_publish(site=site, files=files(SITE), source="upload")
    edge_sync(reload=False)
    nginx = Nginx(settings.EDGE_ROOT, edge_config_path(), port).start()
    embedded = HostRouter(_no_django)
    host = "contract.localhost"
    servers = {
        "embedded": lambda path, headers=None, method="GET": asgi_get(
            embedded, f"{host}:8000", path, headers, method
        ),
        "nginx": lambda path, headers=None, method="GET": nginx.get(host, path, headers, method),
    }
    yield servers, site, deployment, nginx
    nginx.stop()


def eventually(request, status, timeout=10.0):
    """nginx applies a reload a moment after being asked: ask until it shows (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = request()
        if answer.status == status or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


async def _no_django(scope, receive, send):
    raise AssertionError(f"Django was asked for {scope['path']}")


def check(name: str, answer, deployment) -> None:
    """What the contract says about each case."""
    s, hdr, body = answer.status, answer.header, answer.body
    revalidate = "public, max-age=0, must-revalidate"
    if name in ("index", "index-file"):
        assert s == 200 and body == PAGE
        assert hdr("content-type") == "text/html; charset=utf-8"
        assert hdr("etag").startswith('"') and hdr("last-modified")
        assert hdr("cache-control") == revalidate and hdr("vary") == "Accept-Encoding"
        assert hdr("accept-ranges") == "bytes" and hdr("x-frame-options") == "DENY"
    elif name == "index-gzip":
        assert s == 200 and hdr("content-encoding") == "gzip" and gzip.decompress(body) == PAGE
        assert hdr("vary") == "Accept-Encoding"
    elif name == "index-br":
        assert s == 200 and hdr("content-encoding") == "br" and brotli.decompress(body) == PAGE
    elif name in ("clean-url", "shadowed"):
        assert s == 200 and body == b"<h1>About</h1>"
        assert hdr("cache-control") == "public, max-age=60"  # from _headers, replacing ours
    elif name == "html-file":  # _headers match the path asked for, not the file served
        assert s == 200 and body == b"<h1>About</h1>" and hdr("cache-control") == revalidate
    elif name == "dir-redirect":
        assert s == 301 and hdr("location") == "/docs/?x=1"
    elif name == "dir-index":
        assert s == 200 and body == b"<h1>Docs</h1>"
    elif name == "dir-clean":
        assert s == 200 and body == b"<h1>Guide</h1>"
    elif name in ("missing", "missing-dir", "internal-prefix", "rules-hidden"):
        assert s == 404 and body == b"<h1>Custom not found</h1>"
        assert hdr("last-modified") is None and hdr("cache-control") == revalidate
    elif name == "missing-head":
        assert s == 404 and body == b"" and hdr("content-length") == "25"
    elif name == "script":
        assert s == 200 and body == SCRIPT
        assert hdr("content-type") == "application/javascript; charset=utf-8"
        assert hdr("cache-control") == "public, max-age=31536000, immutable"
        assert hdr("x-robots-tag") == "noindex" and hdr("x-frame-options") == "DENY"
    elif name == "script-gzip":
        assert hdr("content-encoding") == "gzip" and gzip.decompress(body) == SCRIPT
        assert hdr("cache-control") == "public, max-age=31536000, immutable"
    elif name == "css":
        assert hdr("content-type") == "text/css; charset=utf-8"
        assert hdr("cache-control") == revalidate
    elif name == "binary":
        assert s == 200 and body == DATA and hdr("content-type") == "application/octet-stream"
        assert hdr("vary") is None and hdr("content-length") == str(len(DATA))
    elif name == "head":
        assert s == 200 and body == b"" and hdr("content-length") == str(len(DATA))
    elif name == "range":
        assert s == 206 and body == DATA[10:20]
        assert hdr("content-range") == f"bytes 10-19/{len(DATA)}"
    elif name == "range-suffix":
        assert s == 206 and body == DATA[-100:]
    elif name == "range-open":
        assert s == 206 and body == DATA[5000:]
    elif name == "range-416":
        assert s == 416 and hdr("content-range") == f"bytes */{len(DATA)}"
    elif name == "range-multi":
        assert s == 200 and body == DATA
    elif name == "range-gzip-ignored":
        assert s == 200 and gzip.decompress(body) == PAGE
    elif name == "redirect-301":
        assert s == 301 and hdr("location") == "/about?q=2"
    elif name == "rules-in-order":
        assert s == 302 and hdr("location") == "/about"
    elif name == "rules-in-order-splat":  # the earlier splat rewrite wins over the later rule
        assert s == 200 and body == b"<h1>Docs</h1>"
    elif name == "redirect-302":
        assert s == 302 and hdr("location") == "/about"
    elif name == "placeholders":
        assert s == 301 and hdr("location") == "/posts/2024-hello"
    elif name == "splat":
        assert s == 302 and hdr("location") == "/docs/guide/part"
    elif name == "rewrite":
        assert s == 200 and body == PAGE
    elif name == "forced":
        assert s == 301 and hdr("location") == "/about"
    elif name == "rule-404":
        assert s == 404 and body == b"<h1>Custom not found</h1>"
    elif name == "external":
        assert s == 308 and hdr("location") == "https://example.org/landing"
    else:
        raise AssertionError(name)


@pytest.mark.parametrize("server", ["embedded", "nginx"])
def test_contract(contract, server):
    servers, _, deployment, _ = contract
    get = servers[server]
    for name, path, headers, method in CASES:
        try:
            check(name, get(path, headers, method), deployment)
        except AssertionError as exc:
            raise AssertionError(f"{server} {name} {path}: {exc}") from exc


@pytest.mark.parametrize("server", ["embedded", "nginx"])
def test_conditional_requests(contract, server):
    servers = contract[0]
    get = servers[server]
    first = get("/")
    tag, modified = first.header("etag"), first.header("last-modified")
    again = get("/", {"If-None-Match": tag})
    assert again.status == 304 and again.body == b"" and again.header("etag") == tag
    assert get("/", {"If-None-Match": f'"other", W/{tag}'}).status == 304
    assert get("/", {"If-None-Match": '"other"'}).status == 200
    assert get("/", {"If-Modified-Since": modified}).status == 304
    assert get("/", {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status == 200
    # Both must agree: an ETag that no longer matches wins over an old date.
    assert get("/", {"If-Modified-Since": modified, "If-None-Match": '"x"'}).status == 200
    zipped = get("/", GZIP)
    assert zipped.header("etag") != tag  # each representation has its own strong ETag
    assert get("/", {**GZIP, "If-None-Match": zipped.header("etag")}).status == 304
    ranged = get("/data.bin", {"Range": "bytes=0-3", "If-Range": '"stale"'})
    assert ranged.status == 200
    data_tag = get("/data.bin").header("etag")
    assert get("/data.bin", {"Range": "bytes=0-3", "If-Range": data_tag}).status == 206


def test_both_servers_answer_identically(contract):
    servers = contract[0]
    conditional = [
        ("inm", "/", {"If-None-Match": servers["nginx"]("/").header("etag")}, "GET"),
        (
            "ims",
            "/about",
            {"If-Modified-Since": servers["nginx"]("/about").header("last-modified")},
            "GET",
        ),
    ]
    for name, path, headers, method in CASES + conditional:
        ours, theirs = (
            servers["embedded"](path, headers, method),
            servers["nginx"](path, headers, method),
        )
        assert ours.status == theirs.status, (name, ours.status, theirs.status)
        for key in KEY_HEADERS:
            assert ours.header(key) == theirs.header(key), (
                name,
                key,
                ours.header(key),
                theirs.header(key),
            )
        assert ours.body == theirs.body, name


def test_unknown_host_and_offline_site(contract, alice):
    from hosting.models import Site

    _, site, _, nginx = contract
    embedded = HostRouter(_no_django)
    for get in (
        lambda host: asgi_get(embedded, host, "/"),
        lambda host: nginx.get(host, "/"),
    ):
        unknown = get("nobody.localhost")
        assert unknown.status == 404 and b"Page not found" in unknown.body
    Site.objects.filter(pk=site.pk).update(status=Site.Status.OFFLINE)
    site.refresh_from_db()
    site.save()  # the signal tells the embedded server
    edge_sync()  # and the edge is re-rendered and reloaded
    for name, get in (
        ("embedded", lambda: asgi_get(embedded, "contract.localhost", "/")),
        ("nginx", lambda: eventually(lambda: nginx.get("contract.localhost", "/"), 503)),
    ):
        answer = get()
        assert answer.status == 503 and b"offline" in answer.body, name
        assert answer.header("cache-control") == "no-store"


def test_a_suspended_teams_site_answers_the_suspended_page_until_paid(contract, alice):
    """Billing suspends a team whose payment stayed overdue: both servers answer its sites
    with the "suspended" page; a payment serves them again, with nothing lost."""
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import Subscription
    from billing.services import subscription_payment_succeeded, subscriptions_enforce
    from billing.tests.factories import team_on_plan

    _, site, _, nginx = contract
    embedded = HostRouter(_no_django)
    assert asgi_get(embedded, "contract.localhost", "/").status == 200  # cached as served
    team_on_plan(site.team, price="19")
    overdue = timezone.now() - timedelta(days=30)
    Subscription.objects.filter(team=site.team).update(
        status=Subscription.Status.PAST_DUE, past_due_since=overdue
    )
    assert subscriptions_enforce()
    edge_sync()
    for name, get in (
        ("embedded", lambda: asgi_get(embedded, "contract.localhost", "/")),
        ("nginx", lambda: eventually(lambda: nginx.get("contract.localhost", "/"), 503)),
    ):
        answer = get()
        assert answer.status == 503 and b"This site is suspended" in answer.body, name
    subscription_payment_succeeded(team=site.team)
    edge_sync()
    for name, get in (
        ("embedded", lambda: asgi_get(embedded, "contract.localhost", "/")),
        ("nginx", lambda: eventually(lambda: nginx.get("contract.localhost", "/"), 200)),
    ):
        assert get().status == 200, name


def test_a_suspended_owners_sites_answer_the_suspended_page_until_reinstated(
    contract, alice, operator
):
    """An operator suspends the site's owner: both servers answer the "suspended" page;
    reinstating them serves the site again, with nothing lost."""
    from operators.services import user_suspend, user_unsuspend

    _, _, _, nginx = contract
    embedded = HostRouter(_no_django)
    assert asgi_get(embedded, "contract.localhost", "/").status == 200  # cached as served
    user_suspend(user=alice, actor=operator)
    edge_sync()
    for name, get in (
        ("embedded", lambda: asgi_get(embedded, "contract.localhost", "/")),
        ("nginx", lambda: eventually(lambda: nginx.get("contract.localhost", "/"), 503)),
    ):
        answer = get()
        assert answer.status == 503 and b"This site is suspended" in answer.body, name
    user_unsuspend(user=alice, actor=operator)
    edge_sync()
    for name, get in (
        ("embedded", lambda: asgi_get(embedded, "contract.localhost", "/")),
        ("nginx", lambda: eventually(lambda: nginx.get("contract.localhost", "/"), 200)),
    ):
        assert get().status == 200, name


@pytest.mark.slow
def test_through_a_real_daphne_the_answers_match_nginx(contract, tmp_path):
    """The embedded default's real server (daphne over TCP) answers as nginx does."""
    from hosting.tests.serving_support import http_get, start_asgi_server, stop
    from hosting.tests.test_serving_processes import ROOT, shared_environment

    servers = contract[0]
    port = free_port()
    daphne = start_asgi_server("daphne", port, shared_environment(tmp_path), ROOT)
    try:
        for name, path, headers, method in CASES:
            ours = http_get(port, "contract.localhost:8000", path, headers, method)
            theirs = servers["nginx"](path, headers, method)
            assert ours.status == theirs.status, (name, ours.status, theirs.status)
            for key in KEY_HEADERS:
                assert ours.header(key) == theirs.header(key), (name, key)
            assert ours.body == theirs.body, name
    finally:
        stop(daphne)
