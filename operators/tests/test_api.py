"""The operators' admin API: staff only (403 in the envelope for everyone else), the Cloud
Haven client's User and Site objects, search, filters and pages, and suspension end to end,
written to the audit log."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from conftest import PASSWORD, bearer_client, make_user
from hosting.services import site_create
from teams.models import AuditEvent

pytestmark = pytest.mark.django_db

ADMIN_ENDPOINTS = [
    ("get", "/api/admin/users"),
    ("get", "/api/admin/users/{pk}/sites"),
    ("post", "/api/admin/users/{pk}/suspend"),
    ("post", "/api/admin/users/{pk}/unsuspend"),
]


@pytest.fixture
def ops(operator):
    return bearer_client(operator)


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_customers_are_refused_in_the_envelope(alice, bob, method, path):
    client = bearer_client(alice)
    answer = getattr(client, method)(path.format(pk=bob.pk))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "FORBIDDEN"
    assert answer.json()["error"]["statusCode"] == 403
    bob.refresh_from_db()
    assert bob.is_active


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
def test_signed_out_callers_are_refused(anon_api, bob, method, path):
    answer = getattr(anon_api, method)(path.format(pk=bob.pk))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHORIZED"


def test_users_in_the_cloud_haven_shape_with_their_site_counts(ops, operator, alice, bob):
    site_create(owner=alice, name="Alpha")
    site_create(owner=alice, name="Beta")
    site_create(owner=bob, name="Bobs")
    answer = ops.get("/api/admin/users", {"limit": 10}).json()
    by_email = {row["email"]: row for row in answer["users"]}
    assert by_email["alice@example.com"] == {
        "id": str(alice.pk),
        "name": "Alice Liddell",
        "email": "alice@example.com",
        "plan": "free",
        "sites": 2,
        "status": "active",
        "isStaff": False,
        "createdAt": by_email["alice@example.com"]["createdAt"],
    }
    assert by_email["bob@example.com"]["sites"] == 1
    assert by_email["ops@example.com"]["sites"] == 0
    assert answer["pagination"] == {"currentPage": 1, "totalPages": 1, "totalItems": 3, "limit": 10}


def test_search_status_filter_and_pages(ops, alice, bob):
    for n in range(12):
        make_user(f"customer{n}@example.org", f"Customer {n}")
    found = ops.get("/api/admin/users", {"search": "liddell"}).json()["users"]
    assert [row["email"] for row in found] == ["alice@example.com"]
    first = ops.get("/api/admin/users", {"search": "example.org", "limit": 5}).json()
    assert len(first["users"]) == 5 and first["pagination"]["totalPages"] == 3
    third = ops.get("/api/admin/users", {"search": "example.org", "limit": 5, "page": 3}).json()
    assert len(third["users"]) == 2
    ops.post(f"/api/admin/users/{bob.pk}/suspend")
    suspended = ops.get("/api/admin/users", {"status": "suspended"}).json()["users"]
    assert [row["email"] for row in suspended] == ["bob@example.com"]
    answer = ops.get("/api/admin/users", {"status": "gone"})
    assert answer.status_code == 422


def test_a_users_sites(ops, alice, bob):
    alpha = site_create(owner=alice, name="Alpha")
    site_create(owner=bob, name="Bobs")
    sites = ops.get(f"/api/admin/users/{alice.pk}/sites").json()["sites"]
    assert [site["id"] for site in sites] == [str(alpha.pk)]
    assert set(sites[0]) >= {"id", "domain", "plan", "status", "createdAt", "storage", "bandwidth"}
    answer = ops.get(f"/api/admin/users/{uuid.uuid4()}/sites")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "USER_NOT_FOUND"


def test_suspension_end_to_end(ops, operator, alice):
    """Alice is signed in and has a token; once suspended neither works and she cannot sign
    in; her site is kept; reinstated, she signs in again. Both actions are in her team's
    audit log with the operator's name."""
    site = site_create(owner=alice, name="Alpha")
    token_client = bearer_client(alice)
    browser = Client()
    assert browser.login(email="alice@example.com", password=PASSWORD)
    assert token_client.get("/api/sites").status_code == 200

    answer = ops.post(f"/api/admin/users/{alice.pk}/suspend")
    assert answer.status_code == 200
    assert answer.json()["user"]["status"] == "suspended"
    assert token_client.get("/api/sites").status_code == 401
    assert browser.get("/sites/").status_code == 302  # signed out: sent to sign in
    assert not Client().login(email="alice@example.com", password=PASSWORD)
    site.refresh_from_db()  # nothing is deleted
    events = AuditEvent.objects.filter(team=site.team, action="user.suspend")
    assert events.count() == 1 and events.get().actor == operator

    answer = ops.post(f"/api/admin/users/{alice.pk}/unsuspend")
    assert answer.json()["user"]["status"] == "active"
    assert Client().login(email="alice@example.com", password=PASSWORD)
    assert AuditEvent.objects.filter(team=site.team, action="user.unsuspend").count() == 1


def test_an_operator_cannot_suspend_themselves(ops, operator):
    answer = ops.post(f"/api/admin/users/{operator.pk}/suspend")
    assert answer.status_code == 422
    operator.refresh_from_db()
    assert operator.is_active


def test_query_count_does_not_grow_with_users(ops, django_assert_max_num_queries):
    for n in range(3):
        site_create(owner=make_user(f"a{n}@example.org", f"A {n}"), name=f"Site {n}")
    ops.get("/api/admin/users")
    with django_assert_max_num_queries(6) as few:
        ops.get("/api/admin/users", {"limit": 100})
    limit = len(few.captured_queries)
    for n in range(30):
        site_create(owner=make_user(f"b{n}@example.org", f"B {n}"), name=f"More {n}")
    ops.get("/api/admin/users")  # new users change access: the token is looked up again once
    with django_assert_max_num_queries(limit):
        ops.get("/api/admin/users", {"limit": 100})


def _token(user, scopes):
    from rest_framework.test import APIClient

    from accounts.services import personal_token_create

    client = APIClient()
    issued = personal_token_create(user=user, name="integration", scopes=scopes)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.access}")
    return client


def test_an_operators_token_reads_or_acts_only_with_its_scope(operator, alice):
    plain = _token(operator, [])
    answer = plain.get("/api/admin/users")
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "This API token lacks the admin:read scope."
    assert plain.get("/api/admin/monitoring").status_code == 403

    reader = _token(operator, ["admin:read"])
    assert reader.get("/api/admin/users").status_code == 200
    assert reader.get(f"/api/admin/users/{alice.pk}/sites").status_code == 200
    answer = reader.post(f"/api/admin/users/{alice.pk}/suspend")
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "This API token lacks the admin:write scope."
    alice.refresh_from_db()
    assert alice.is_active

    writer = _token(operator, ["admin:write"])
    assert writer.get("/api/admin/users").status_code == 200  # acting includes reading
    assert writer.post(f"/api/admin/users/{alice.pk}/suspend").status_code == 200
    alice.refresh_from_db()
    assert not alice.is_active


def test_only_operators_make_scoped_tokens(alice, operator):
    from conftest import PASSWORD

    answer = bearer_client(alice).post(
        "/api/user/tokens", {"name": "x", "password": PASSWORD, "scopes": ["admin:read"]}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["scopes"] == [
        "Only operators may give a token admin scopes."
    ]
    answer = bearer_client(operator).post(
        "/api/user/tokens",
        {"name": "watcher", "password": PASSWORD, "scopes": ["admin:read"]},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["scopes"] == ["admin:read"]


def test_plan_is_the_personal_teams_and_each_site_shows_its_teams(ops, operator, alice, bob):
    from billing.models import Plan
    from billing.services import plans_seed, subscription_assign
    from teams.services import acting_team

    site_create(owner=alice, name="Alpha")
    plans_seed()
    standard = Plan.objects.get(key="standard")
    subscription_assign(team=acting_team(alice), plan=standard, actor=operator)
    users = {row["email"]: row for row in ops.get("/api/admin/users").json()["users"]}
    assert users["alice@example.com"]["plan"] == "standard"
    assert users["bob@example.com"]["plan"] == "free"
    sites = ops.get(f"/api/admin/users/{alice.pk}/sites").json()["sites"]
    assert [site["plan"] for site in sites] == ["standard"]


def operator_routes():
    """Every API route whose view is for operators only (found by walking the URL patterns,
    so a new one cannot be left out): (route, view class, example path)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    from controlpanel.api.permissions import OperatorOnly

    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "view_class", None)
                if view is not None and OperatorOnly in getattr(view, "permission_classes", ()):
                    route = prefix + str(pattern.pattern)
                    path = "/" + route.replace("<uuid:pk>", str(uuid.uuid4()))
                    found.append((route, view, path.replace("<slug:pk>", "web")))

    walk(get_resolver().url_patterns)
    return found


def test_every_admin_endpoint_refuses_customers_and_tokens_without_the_scope(operator, alice):
    routes = operator_routes()
    assert {route for route, *_ in routes} >= {
        "api/admin/users",
        "api/admin/monitoring",
        "api/admin/transactions",
        "api/containers/<slug:pk>/restart",
    }
    customer, plain = bearer_client(alice), _token(operator, [])
    reader = _token(operator, ["admin:read"])
    for route, view, path in routes:
        for method in ("get", "post"):
            if not hasattr(view, method):
                continue
            answer = getattr(customer, method)(path)
            assert answer.status_code == 403, (route, method)
            assert answer.json()["error"]["code"] == "FORBIDDEN"
            answer = getattr(plain, method)(path)
            needed = "admin:read" if method == "get" else "admin:write"
            assert answer.status_code == 403, (route, method)
            assert answer.json()["error"]["message"] == f"This API token lacks the {needed} scope."
            answer = getattr(reader, method)(path)
            if method == "get":
                assert answer.status_code != 403, (route, answer.content)
            else:  # reading never acts
                assert answer.status_code == 403, (route, method)
    assert not AuditEvent.objects.exists()  # nothing was done
    alice.refresh_from_db()
    assert alice.is_active
