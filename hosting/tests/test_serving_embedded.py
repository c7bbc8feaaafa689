"""The embedded site server in-process: routing by Host, caching, invalidation, the feed."""

from __future__ import annotations

import pytest

from deployments.services import deployment_publish, deployment_rollback
from deployments.tests.factories import files, make_site
from hosting.serving import changes, store
from hosting.serving.app import HostRouter
from hosting.tests.serving_support import asgi_get

pytestmark = pytest.mark.django_db(transaction=True)


async def django_stub(scope, receive, send):
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


@pytest.fixture
def router(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return HostRouter(django_stub)


def test_hosts_choose_the_site_server_or_django(router, alice):
    site = make_site(alice, slug="blog")
    assert asgi_get(router, "localhost:8000", "/").body == b"django"
    assert asgi_get(router, "127.0.0.1:8000", "/").body == b"django"
    assert asgi_get(router, "elsewhere.example", "/").body == b"django"
    not_yet = asgi_get(router, "blog.localhost:8000", "/")
    assert not_yet.status == 404 and b"Page not found" in not_yet.body  # nothing deployed
    assert asgi_get(router, "nobody.localhost", "/").status == 404
    deployment_publish(site=site, files=files({"index.html": b"hello"}), source="upload")
    assert asgi_get(router, "BLOG.localhost:8000", "/").body == b"hello"


def test_steady_state_costs_no_database_query(router, alice, monkeypatch):
    site = make_site(alice, slug="quiet")
    deployment_publish(site=site, files=files({"index.html": b"quiet"}), source="upload")
    calls = {"route": 0, "site": 0, "release": 0}
    for name in calls:
        real = getattr(store, f"load_{name}")

        def counted(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setattr(store, f"load_{name}", counted)
    for _ in range(30):
        assert asgi_get(router, "quiet.localhost", "/").body == b"quiet"
    assert calls == {"route": 1, "site": 1, "release": 1}


def test_deploys_and_rollbacks_are_seen_at_once(router, alice):
    site = make_site(alice, slug="live")
    first = deployment_publish(site=site, files=files({"index.html": b"one"}), source="upload")
    assert asgi_get(router, "live.localhost", "/").body == b"one"
    deployment_publish(site=site, files=files({"index.html": b"two"}), source="upload")
    assert asgi_get(router, "live.localhost", "/").body == b"two"
    deployment_rollback(deployment=first)
    assert asgi_get(router, "live.localhost", "/").body == b"one"
    site.refresh_from_db()
    site.slug = "renamed"
    site.save()
    assert asgi_get(router, "live.localhost", "/").status == 404
    assert asgi_get(router, "renamed.localhost", "/").body == b"one"


def test_a_load_racing_an_invalidation_is_not_kept(router, alice, monkeypatch):
    site = make_site(alice, slug="race")
    deployment_publish(site=site, files=files({"index.html": b"a"}), source="upload")
    cache = router.site_server.cache
    real = store.load_site

    def load_then_change(site_id):
        state = real(site_id)
        cache.forget(site_id)  # a deploy lands while the old state is being read
        return state

    monkeypatch.setattr(store, "load_site", load_then_change)
    assert asgi_get(router, "race.localhost", "/").body == b"a"
    assert site.pk not in cache.sites


def test_file_feed_between_processes(tmp_path):
    path = tmp_path / "changes.log"
    writer, reader = changes.FileFeed(path), changes.FileFeed(path)
    watcher = changes.Watcher(feed=reader, interval=0)
    assert watcher.poll() == []  # starts at the end
    writer.publish("site-a")
    writer.publish("site-b")
    with open(path, "ab") as handle:
        handle.write(b"site-c")  # a line still being written
    assert watcher.poll() == ["site-a", "site-b"]
    with open(path, "ab") as handle:
        handle.write(b"\n")
    assert watcher.poll() == ["site-c"]
    path.unlink()
    writer.publish("site-d")  # a new file: the reader cannot know what it missed
    assert watcher.poll() == [changes.EVERYTHING]
    assert watcher.poll() == []


def test_redis_feed(redis_url, settings):
    settings.CACHE_KEY_PREFIX = "feedtest"
    feed = changes.RedisFeed(redis_url, "feedtest:serving:changes")
    feed.client.delete("feedtest:serving:changes")
    watcher = changes.Watcher(feed=changes.RedisFeed(redis_url, feed.key), interval=0)
    assert watcher.poll() == []
    for n in range(700):
        feed.publish(f"s{n}")
    seen = watcher.poll()
    assert len(seen) == 700 and seen[0] == "s0" and seen[-1] == "s699"
    assert watcher.poll() == []


def test_an_unreachable_feed_makes_the_server_forget_not_fail(router, alice, settings):
    site = make_site(alice, slug="feedless")
    deployment_publish(site=site, files=files({"index.html": b"still here"}), source="upload")
    cache = router.site_server.cache
    cache.watcher = changes.Watcher(
        feed=changes.RedisFeed("redis://127.0.0.1:1/0", "nowhere"), interval=0
    )
    assert asgi_get(router, "feedless.localhost", "/").body == b"still here"
    assert cache.watcher.retry_at > 0  # it failed once, and waits before asking again
    assert cache.watcher.poll() == [changes.EVERYTHING]
    assert asgi_get(router, "feedless.localhost", "/").body == b"still here"


def test_a_path_answers_the_same_each_time_with_each_requests_own_conditions(router, alice):
    page = b"<p>the same page, again and again</p>" * 40
    site = make_site(alice, slug="again")
    deployment_publish(site=site, files=files({"index.html": page}), source="upload")
    first = asgi_get(router, "again.localhost", "/")
    assert first.status == 200 and first.body == page
    assert asgi_get(router, "again.localhost", "/") == first
    tag = first.header("etag")
    assert asgi_get(router, "again.localhost", "/", {"If-None-Match": tag}).status == 304
    assert asgi_get(router, "again.localhost", "/", {"If-Match": '"other"'}).status == 412
    part = asgi_get(router, "again.localhost", "/", {"Range": "bytes=0-9"})
    assert part.status == 206 and part.body == page[:10]
    assert part.header("content-range") == f"bytes 0-9/{len(page)}"
    assert asgi_get(router, "again.localhost", "/", {"Range": "bytes=99999-"}).status == 416
    gzipped = asgi_get(router, "again.localhost", "/", {"Accept-Encoding": "gzip"})
    assert gzipped.header("content-encoding") == "gzip" and gzipped.body != page
    head = asgi_get(router, "again.localhost", "/", method="HEAD")
    assert (head.status, head.headers, head.body) == (200, first.headers, b"")
    assert asgi_get(router, "again.localhost", "/", method="POST").status == 405
    assert asgi_get(router, "again.localhost", "/") == first
    assert asgi_get(router, "again.localhost", "/", {"Accept-Encoding": "gzip"}) == gzipped


def test_hosted_sites_write_no_access_line_under_uvicorn_the_panel_does(alice, settings, tmp_path):
    """uvicorn logs every response; a site's are counted by the site server instead."""
    import logging
    import threading
    import time

    import uvicorn

    from conftest import free_port
    from hosting.tests.serving_support import http_get

    settings.VAR_DIR = tmp_path / "var"
    site = make_site(alice, slug="unlogged")
    deployment_publish(site=site, files=files({"index.html": b"site"}), source="upload")
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    level, access.level = access.level, logging.INFO
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            HostRouter(django_stub), host="127.0.0.1", port=port, log_config=None, lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http_get(port, "unlogged.localhost", "/").body == b"site"
        assert http_get(port, "localhost", "/panel").status == 299
    finally:
        server.should_exit = True
        thread.join(10)
        access.removeHandler(handler)
        access.level = level
    assert len(lines) == 1 and '"GET /panel HTTP/1.1" 299' in lines[0]
