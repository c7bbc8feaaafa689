"""Every successful deployment answers at its own immutable ``<short id>--<slug>`` address.

The address keeps serving that deployment's files after a newer one went live (and after a
rollback), while the site's own address follows the live pointer as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.models import Deployment
from deployments.services import deployment_publish, deployment_rollback
from deployments.tests.factories import files, make_site
from hosting.hostnames import DEPLOYMENT_ID_LENGTH, route_for_host
from hosting.serving.app import HostRouter
from hosting.serving.edge import edge_sync
from hosting.slugs import slug_problem
from hosting.tests.serving_support import asgi_get
from hosting.tests.test_edge import edge  # noqa: F401  (the nginx fixture)

pytestmark = pytest.mark.django_db(transaction=True)


async def django_stub(scope, receive, send):
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


@pytest.fixture
def router(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return HostRouter(django_stub)


def host(deployment) -> str:
    return f"{deployment.pk.hex[:DEPLOYMENT_ID_LENGTH]}--{deployment.site.slug}.localhost"


def test_an_old_deployment_keeps_its_address_after_a_newer_one_went_live(router, alice):
    site = make_site(alice, slug="shop")
    old = deployment_publish(site=site, files=files({"index.html": b"old"}), source="upload")
    new = deployment_publish(
        site=site, files=files({"index.html": b"new", "extra.html": b"x"}), source="upload"
    )

    assert asgi_get(router, "shop.localhost", "/").body == b"new"  # production: the live one
    assert asgi_get(router, host(old), "/").body == b"old"
    assert asgi_get(router, host(old), "/extra.html").status == 404  # only old's own files
    assert asgi_get(router, host(new), "/").body == b"new"

    deployment_rollback(deployment=old)
    assert asgi_get(router, "shop.localhost", "/").body == b"old"
    assert asgi_get(router, host(new), "/").body == b"new"  # immutable either way


def test_the_edge_serves_every_deployment_at_its_own_address(edge, alice, settings):  # noqa: F811
    site = make_site(alice, slug="edgy")
    ruled = deployment_publish(
        site=site,
        files=files({"index.html": b"ruled", "_redirects": b"/go /index.html 302\n"}),
        source="upload",
    )
    old = deployment_publish(site=site, files=files({"index.html": b"old"}), source="upload")
    edge_sync()
    nginx = edge()
    new = deployment_publish(site=site, files=files({"index.html": b"new"}), source="upload")
    result = edge_sync()
    assert not result.config_changed  # a new deployment address is a symlink, not a reload

    assert nginx.get("edgy.localhost", "/").body == b"new"  # production: the live one
    assert nginx.get(host(old), "/").body == b"old"
    assert nginx.get(host(new), "/").body == b"new"
    assert nginx.get(host(ruled), "/").body == b"ruled"
    assert nginx.get(host(ruled), "/go").status == 302  # its own _redirects apply
    assert nginx.get(host(old), "/go").status == 404
    assert nginx.get("00000000--edgy.localhost", "/").status == 404

    # A preview (a branch build, never made live) answers at <preview>--<slug>, newest first.
    for text in (b"preview one", b"preview two"):
        built = deployment_publish(
            site=site, files=files({"index.html": text}), source="upload", activate=False
        )
        Deployment.objects.filter(pk=built.pk).update(preview="feature-x")
        assert not edge_sync().config_changed
        assert nginx.get("feature-x--edgy.localhost", "/").body == text
    assert nginx.get("edgy.localhost", "/").body == b"new"  # production unchanged

    gone, tree = host(old), Path(settings.EDGE_ROOT) / "sites" / str(old.pk)
    assert tree.is_dir()
    old.delete()
    edge_sync()
    assert nginx.get(gone, "/").status == 404
    assert not tree.exists()  # pruned with the deployment
    assert nginx.get(host(new), "/").body == b"new"


def test_the_address_names_the_deployment_of_that_site_only(router, alice, bob):
    mine = make_site(alice, slug="mine")
    theirs = make_site(bob, slug="theirs")
    deployment = deployment_publish(site=mine, files=files({"index.html": b"a"}), source="upload")
    deployment_publish(site=theirs, files=files({"index.html": b"b"}), source="upload")
    short = deployment.pk.hex[:DEPLOYMENT_ID_LENGTH]

    # The short id with another site's slug, or an unknown id, is not an address.
    assert asgi_get(router, f"{short}--theirs.localhost", "/").status == 404
    assert asgi_get(router, "00000000--mine.localhost", "/").status == 404
    assert route_for_host(f"{short}--mine.localhost").deployment_id == deployment.pk


def test_a_site_that_is_offline_is_offline_at_every_address(router, alice):
    site = make_site(alice, slug="closed")
    deployment = deployment_publish(site=site, files=files({"index.html": b"a"}), source="upload")
    site.status = "offline"
    site.save(update_fields=["status"])
    assert asgi_get(router, host(deployment), "/").status == 503


def test_site_addresses_cannot_look_like_deployment_addresses():
    assert slug_problem("0123abcd--shop") is not None
    assert slug_problem("feature--shop") is not None
    assert slug_problem("my--shop") is not None
    assert slug_problem("my-shop") is None
    assert slug_problem("xn--bcher-kva") is None  # punycode keeps working


def test_api_and_page_show_the_deployment_address(api, web, alice):
    site = make_site(alice, slug="shown")
    old = deployment_publish(site=site, files=files({"index.html": b"1"}), source="upload")
    deployment_publish(site=site, files=files({"index.html": b"2"}), source="upload")

    detail = api.get(f"/api/deployments/{old.pk}").json()
    assert detail["deploymentUrl"].startswith(f"http://{host(old)}")
    assert detail["live"] is False
    listed = api.get("/api/deployments").json()
    assert {row["deploymentUrl"] for row in listed["deployments"]} >= {detail["deploymentUrl"]}

    page = web.get(f"/deployments/{old.pk}/").content.decode()
    assert detail["deploymentUrl"] in page


def test_expired_previews_are_removed_and_fresh_ones_stay(router, alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    from deployments.tasks import previews_expire

    settings.PREVIEW_EXPIRE_DAYS = 30
    site = make_site(alice, slug="aging")
    deployment_publish(site=site, files=files({"index.html": b"live"}), source="upload")
    for label, age in (("old-branch", 31), ("fresh-branch", 1)):
        built = deployment_publish(
            site=site, files=files({"index.html": label.encode()}), source="upload", activate=False
        )
        Deployment.objects.filter(pk=built.pk).update(
            preview=label, created_at=timezone.now() - timedelta(days=age)
        )
    assert previews_expire() == 1
    fresh = HostRouter(django_stub)
    assert asgi_get(fresh, "old-branch--aging.localhost", "/").status == 404
    assert asgi_get(fresh, "fresh-branch--aging.localhost", "/").body == b"fresh-branch"
    assert asgi_get(fresh, "aging.localhost", "/").body == b"live"
    settings.PREVIEW_EXPIRE_DAYS = 0
    Deployment.objects.filter(site=site).update(preview="fresh-branch")
    assert previews_expire() == 0  # 0 keeps previews


def test_a_preview_is_promoted_to_production_without_a_rebuild(router, api, alice):
    site = make_site(alice, slug="promo")
    deployment_publish(site=site, files=files({"index.html": b"production"}), source="upload")
    built = deployment_publish(
        site=site, files=files({"index.html": b"preview"}), source="upload", activate=False
    )
    Deployment.objects.filter(pk=built.pk).update(preview="feature-x")
    assert asgi_get(router, "promo.localhost", "/").body == b"production"

    answer = api.post(f"/api/deployments/{built.pk}/rollback")
    assert answer.status_code in (200, 201), answer.json()
    promoted = Deployment.objects.get(site=site, restored_from=built)
    assert promoted.manifest_id == built.manifest_id  # the same files: a pointer switch
    fresh = HostRouter(django_stub)
    assert asgi_get(fresh, "promo.localhost", "/").body == b"preview"
    assert asgi_get(fresh, "feature-x--promo.localhost", "/").body == b"preview"
