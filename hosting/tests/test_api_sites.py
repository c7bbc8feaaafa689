"""Sites over the API: the Cloud Haven Site object at /api/sites, Alt Production Hosting's
/api/hosting/spaces."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from conftest import bearer_client
from hosting import services
from hosting.models import Site, SiteBandwidth

pytestmark = pytest.mark.django_db

SEED_SITE = {
    "id": str,
    "domain": str,
    "plan": str,
    "status": str,
    "createdAt": str,
    "storage": dict,
    "bandwidth": dict,
}


def assert_seed_shape(data: dict) -> None:
    for key, kind in SEED_SITE.items():
        assert isinstance(data[key], kind), key
    for key in ("storage", "bandwidth"):
        assert set(data[key]) == {"used", "total"}
        assert all(isinstance(v, int) for v in data[key].values())
    assert data["plan"] in ("free", "standard", "enterprise")
    assert data["status"] in ("online", "offline", "provisioning", "error")


def test_create_list_get_delete_in_seed_002_shape(
    api, alice, settings, django_capture_on_commit_callbacks
):
    settings.SITES_DOMAIN = "hosted.test"
    created = api.post(
        "/api/sites/create", {"name": "Blog", "domain": "blog.hosted.test"}, format="json"
    )
    assert created.status_code == 201, created.json()
    data = created.json()
    assert_seed_shape(data)
    assert data["domain"] == "blog.hosted.test" and data["status"] == "provisioning"
    assert data["plan"] == "free" and data["slug"] == "blog" and data["url"].startswith("http")
    assert data["storage"] == {"used": 0, "total": settings.SITE_STORAGE_LIMIT}
    assert data["bandwidth"] == {"used": 0, "total": settings.SITE_BANDWIDTH_LIMIT}
    assert data["createdAt"].endswith("Z")

    listed = api.get("/api/sites").json()
    assert [s["id"] for s in listed["sites"]] == [data["id"]]
    assert listed["pagination"] == {"currentPage": 1, "totalPages": 1, "totalItems": 1, "limit": 10}
    assert api.get(f"/api/sites/{data['id']}").json() == data

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/sites/{data['id']}").status_code == 204
    assert not Site.objects.exists()
    missing = api.get(f"/api/sites/{data['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "SITE_NOT_FOUND"


def test_bandwidth_is_this_months_rows(api, alice):
    site = services.site_create(owner=alice, name="Traffic")
    today = timezone.localdate()
    SiteBandwidth.objects.create(site=site, day=today, bytes_sent=1500, requests=3)
    SiteBandwidth.objects.create(
        site=site, day=today.replace(day=1) - datetime.timedelta(days=1), bytes_sent=99999
    )
    Site.objects.filter(pk=site.pk).update(storage_used=4096)
    data = api.get(f"/api/sites/{site.pk}").json()
    assert data["bandwidth"]["used"] == 1500 and data["storage"]["used"] == 4096


def test_create_validation_errors(api, bob):
    services.site_create(owner=bob, name="Taken", slug="taken")
    for body, field in [
        ({}, "name"),
        ({"name": "X", "slug": "taken"}, "slug"),
        ({"name": "X", "slug": "Bad Slug"}, "slug"),
        ({"name": "X", "domain": "a.b.example.com"}, "domain"),
        ({"name": "X", "kind": "blog"}, "kind"),
        ({"name": "X", "kind": "wordpress"}, "adminPassword"),  # WordPress needs an admin
    ]:
        answer = api.post("/api/sites/create", body, format="json")
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
        assert field in answer.json()["error"]["details"], body


def test_spaces_spelling_create_patch_and_delete(api, alice, django_capture_on_commit_callbacks):
    created = api.post("/api/hosting/spaces", {"name": "Space", "slug": "space"}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api.get("/api/hosting/spaces").json()["spaces"][0]["id"] == pk
    renamed = api.patch(f"/api/hosting/spaces/{pk}", {"name": "Renamed"}, format="json").json()
    assert renamed["name"] == "Renamed" and renamed["domain"].startswith("space.")
    offline = api.patch(f"/api/hosting/spaces/{pk}", {"status": "offline"}, format="json")
    assert offline.json()["status"] == "offline"
    back = api.patch(f"/api/hosting/spaces/{pk}", {"status": "online"}, format="json")
    assert back.json()["status"] == "provisioning"  # nothing deployed yet
    bad = api.patch(f"/api/hosting/spaces/{pk}", {"status": "error"}, format="json")
    assert bad.status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/hosting/spaces/{pk}").status_code == 204


def test_lists_are_paginated_and_query_counts_are_pinned(api, alice, django_assert_max_num_queries):
    for i in range(15):
        site = services.site_create(owner=alice, name=f"Site {i:02}")
        SiteBandwidth.objects.create(site=site, day=timezone.localdate(), bytes_sent=i)
    with django_assert_max_num_queries(7):  # one of them: the team's plan (Site.plan)
        first = api.get("/api/sites?limit=10").json()
    assert len(first["sites"]) == 10
    assert first["pagination"] == {"currentPage": 1, "totalPages": 2, "totalItems": 15, "limit": 10}
    second = api.get("/api/hosting/spaces?limit=10&page=2").json()
    assert len(second["spaces"]) == 5
    assert api.get("/api/sites?page=0").status_code == 422


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_other_users_get_404(who, request, alice):
    site = services.site_create(owner=alice, name="Alice's")
    other = bearer_client(request.getfixturevalue(who))
    assert other.get("/api/sites").json()["sites"] == []
    for method, path in [
        ("get", f"/api/sites/{site.pk}"),
        ("delete", f"/api/sites/{site.pk}"),
        ("get", f"/api/hosting/spaces/{site.pk}"),
        ("patch", f"/api/hosting/spaces/{site.pk}"),
        ("delete", f"/api/hosting/spaces/{site.pk}"),
    ]:
        answer = getattr(other, method)(path, {"name": "Mine now"}, format="json")
        assert answer.status_code == 404, (method, path)
        assert answer.json()["error"]["code"] == "SITE_NOT_FOUND"
    site.refresh_from_db()
    assert site.name == "Alice's"


def test_anonymous_callers_get_401(anon_api, alice):
    site = services.site_create(owner=alice, name="Alice's")
    for path in ("/api/sites", f"/api/sites/{site.pk}", "/api/hosting/spaces"):
        answer = anon_api.get(path)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "UNAUTHORIZED"


def test_sites_answer_as_drf_renders_them(alice, settings):
    """The sites list serializes its rows directly: the same JSON as DRF's own rendering,
    the operators' variant (another plan per site) included."""
    from rest_framework import serializers as drf
    from rest_framework.renderers import JSONRenderer

    from deployments.models import Deployment
    from hosting import selectors
    from hosting.api.serializers import SiteSerializer
    from operators.api.serializers import AdminSiteSerializer
    from teams.services import acting_team

    settings.TIME_ZONE = "America/New_York"
    quiet = services.site_create(owner=alice, name="Quiet")
    live = services.site_create(owner=alice, name="Live")
    SiteBandwidth.objects.create(site=live, day=timezone.localdate(), bytes_sent=512)
    deployment = Deployment.objects.create(site=live, author=alice, status="success")
    Site.objects.filter(pk=live.pk).update(live_deployment=deployment, preview_protection="team")
    Site.objects.filter(pk=quiet.pk).update(status=Site.Status.OFFLINE)
    team = acting_team(alice)
    rows = list(selectors.site_list(user=alice, team=team))
    assert len(rows) == 2
    for serializer in (SiteSerializer, AdminSiteSerializer):
        for row in rows:
            row.plan_key = "pro"
        context = {"plan": "team"}
        got = serializer(rows, many=True, context=context).data
        expected = [
            drf.Serializer.to_representation(serializer(context=context), row) for row in rows
        ]
        assert JSONRenderer().render(got) == JSONRenderer().render(expected)
    assert got[0]["liveDeployedAt"] or got[1]["liveDeployedAt"]
