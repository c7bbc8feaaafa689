"""Status codes and top paths per site and day, counted the same way by both servers, and
kept bounded however many different paths visitors ask for."""

from __future__ import annotations

from datetime import date

import pytest

from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.models import SiteBandwidth, SitePathDay, SiteStatusDay
from hosting.serving import bandwidth
from hosting.serving.bandwidth import Tally, access_log_read, traffic_add
from hosting.serving.edge import edge_access_log, edge_sync
from hosting.tests.serving_support import asgi_get
from hosting.tests.test_bandwidth import wait_lines
from hosting.tests.test_edge import edge  # noqa: F401 - fixture
from hosting.tests.test_serving_embedded import django_stub, router  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = b"p" * 1000
STYLE = b"s" * 10


def publish(alice, slug):
    site = make_site(alice, slug=slug)
    deployment_publish(
        site=site, files=files({"index.html": PAGE, "style.css": STYLE}), source="upload"
    )
    return site


def visit(get, host) -> int:
    """The same visits on either server; returns the size of the not-found page it sent."""
    for _ in range(3):
        assert get(host, "/").status == 200
    for _ in range(2):
        assert get(host, "/style.css?v=2").status == 200
    tag = get(host, "/").header("etag")
    assert get(host, "/", {"If-None-Match": tag}).status == 304  # no body
    missing = get(host, "/nope")
    assert missing.status == 404
    assert get(host, "/a%20b?x=1").status == 404
    assert get(host, "/style.css", method="HEAD").status == 200  # no body
    return len(missing.body)


def expect(site, not_found: int) -> None:
    """Worked out by hand from ``visit``: 10 requests; bodies 4 × 1,000 + 2 × 10 + 2 × 404."""
    assert SiteBandwidth.objects.get(site=site).requests == 10
    assert SiteBandwidth.objects.get(site=site).bytes_sent == 4020 + 2 * not_found
    statuses = dict(SiteStatusDay.objects.filter(site=site).values_list("status", "requests"))
    assert statuses == {200: 7, 304: 1, 404: 2}
    paths = {
        row.path: (row.requests, row.bytes_sent) for row in SitePathDay.objects.filter(site=site)
    }
    assert paths == {
        "/": (5, 4000),  # three pages, the ETag fetch, the 304
        "/style.css": (3, 20),  # the query is not part of the path; HEAD sends no body
        "/nope": (1, not_found),
        "/a b": (1, not_found),  # decoded as the embedded server sees it
    }


def test_the_embedded_server_counts_statuses_and_paths(router, alice):  # noqa: F811
    site = publish(alice, "tallied")

    def get(host, path, headers=None, method="GET"):
        return asgi_get(router, host, path, headers, method)

    not_found = visit(get, "tallied.localhost")
    assert not SiteStatusDay.objects.exists()  # nothing written per request
    assert router.site_server.counter.flush() == 1
    expect(site, not_found)
    # A second flush adds to the same rows.
    asgi_get(router, "tallied.localhost", "/nope")
    router.site_server.counter.flush()
    assert SiteStatusDay.objects.get(site=site, status=404).requests == 3
    assert SitePathDay.objects.get(site=site, path="/nope").requests == 2


def test_the_edge_log_carries_statuses_and_paths(edge, alice):  # noqa: F811
    site = publish(alice, "edgetallied")
    edge_sync()
    nginx = edge()
    not_found = visit(nginx.get, "edgetallied.localhost")
    log = edge_access_log()
    wait_lines(log, 10)
    assert access_log_read(log) == 10
    expect(site, not_found)


def test_an_offline_site_counts_its_503s(router, alice):  # noqa: F811
    from hosting.services import site_set_offline

    site = publish(alice, "resting")
    site_set_offline(site=site, offline=True)
    answer = asgi_get(router, "resting.localhost", "/page")
    assert answer.status == 503
    router.site_server.counter.flush()
    assert dict(SiteStatusDay.objects.filter(site=site).values_list("status", "requests")) == {
        503: 1
    }
    assert SitePathDay.objects.get(site=site).path == "/page"


def tally(paths: dict[str, int]) -> Tally:
    counted = Tally()
    for path, requests in paths.items():
        for _ in range(requests):
            counted.add(10, 200, path)
    return counted


def test_only_the_busiest_paths_keep_a_row(alice, monkeypatch):
    monkeypatch.setattr(SitePathDay, "TOP_PATHS", 3)
    site = make_site(alice, slug="manypaths")
    day = date(2026, 3, 18)
    traffic_add({(site.pk, day): tally({"/a": 5, "/b": 4, "/c": 3, "/d": 2, "/e": 1})})

    def rows():
        return dict(SitePathDay.objects.filter(site=site, day=day).values_list("path", "requests"))

    assert rows() == {"/a": 5, "/b": 4, "/c": 3, "": 3}  # /d and /e together
    # /d's earlier requests are among the others; its 4 new ones pass /c, which gives up its
    # row: its 3 requests join the others.
    traffic_add({(site.pk, day): tally({"/d": 4, "/f": 1})})
    assert rows() == {"/a": 5, "/b": 4, "/d": 4, "": 7}
    assert sum(rows().values()) == SiteBandwidth.objects.get(site=site, day=day).requests == 20
    assert SitePathDay.objects.filter(site=site, day=day).count() == 4


def test_a_server_keeps_a_bounded_number_of_paths_in_memory(monkeypatch):
    monkeypatch.setattr(bandwidth, "MEMORY_PATHS", 2)
    counted = tally({"/1": 1, "/2": 1, "/3": 1, "/4": 2})
    assert counted.paths == {"/1": [1, 10], "/2": [1, 10], "": [3, 30]}
    assert counted.requests == 5 and counted.statuses == {200: 5}


def test_the_edge_counts_preview_and_deployment_addresses_for_their_site(edge, alice):  # noqa: F811
    from deployments.models import Deployment
    from hosting.hostnames import DEPLOYMENT_ID_LENGTH

    site = publish(alice, "previewtallied")
    preview = deployment_publish(
        site=site, files=files({"index.html": PAGE}), source="upload", activate=False
    )
    Deployment.objects.filter(pk=preview.pk).update(preview="feature-x")
    edge_sync()
    nginx = edge()
    short = f"{preview.pk.hex[:DEPLOYMENT_ID_LENGTH]}--previewtallied.localhost"
    for host in ("feature-x--previewtallied.localhost", short):
        assert nginx.get(host, "/").status == 200
    log = edge_access_log()
    wait_lines(log, 2)
    assert access_log_read(log) == 2
    assert SiteBandwidth.objects.get(site=site).requests == 2
    assert SiteBandwidth.objects.get(site=site).bytes_sent == 2 * len(PAGE)
