"""Roles hold at every door: each endpoint of the project, called by each role.

Alice owns the team, Bob is a developer, Carol a viewer, Dave is outside it. An allowed call
succeeds; a refused one answers 403 FORBIDDEN (the API's envelope) to a member and 404 to Dave.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import pytest
from django.db import transaction

from teams.permissions import ROLE_ACTIONS
from teams.tests.endpoint_matrix import ENDPOINTS
from teams.tests.matrix import (
    MEMBERS,
    PERSONAL,
    PUBLIC,
    ROLE_ORDER,
    Exempt,
    allowed_roles,
    build_world,
    entry_for,
    implemented_methods,
    request,
    walk,
)


def test_every_endpoint_is_in_the_matrix():
    missing, unlisted_methods = [], []
    for route, pattern in walk():
        entry = entry_for(route, ENDPOINTS)
        if entry is None:
            missing.append(route)
        elif not isinstance(entry, Exempt):
            listed = {case.method for case in entry}
            for method in implemented_methods(pattern) - listed:
                unlisted_methods.append(f"{method} {route}")
    assert not missing, f"add these endpoints to teams/tests/endpoint_matrix.py: {missing}"
    assert not unlisted_methods, f"methods missing from the matrix: {unlisted_methods}"


def test_matrix_lists_only_real_endpoints():
    routes = {route for route, _ in walk()}
    stale = [key for key in ENDPOINTS if not key.endswith("*") and key not in routes]
    assert not stale, f"no such endpoint any more: {stale}"


def test_roles_are_nested():
    """Each role may do everything the role below it may (the matrix relies on it)."""
    for higher, lower in itertools.pairwise(ROLE_ORDER):
        assert ROLE_ACTIONS[higher] >= ROLE_ACTIONS[lower]


CASES = [
    pytest.param(route, case, id=f"{case.method} /{route}")
    for route, entry in ENDPOINTS.items()
    if not isinstance(entry, Exempt)
    for case in entry
]


@pytest.fixture(autouse=True)
def _matrix_settings(settings, tmp_path):
    settings.EDGE_ROOT = tmp_path / "edge"
    settings.BERTH_REGISTRY_TLDS = {"test": "12.00"}
    settings.SITES_DOMAIN = "sites.localhost"
    settings.ACME_AUTO_ISSUE = False
    settings.PDNS_API_URL = ""
    settings.DNS_RESOLVERS = ["127.0.0.1:9"]
    settings.DNS_NAMESERVERS = ["ns1.berth.test", "ns2.berth.test"]
    settings.BUILD_ROOT = tmp_path / "builds"


def _succeeded(response, case) -> bool:
    return 200 <= response.status_code < 400 or response.status_code in case.ok


def _describe(response) -> str:
    body = response.content[:300].decode("utf-8", "replace")
    return f"{response.status_code}: {body}"


def _assert_forbidden(response, route, who):
    assert response.status_code == 403, f"{who} should be refused: {_describe(response)}"
    if route.startswith("api/"):
        assert response.json()["error"]["code"] == "FORBIDDEN"
        assert response.json()["error"]["statusCode"] == 403


@contextmanager
def rolled_back():
    """Run a call in a savepoint thrown away afterwards, so the next caller meets the world
    as built."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _callers_allowed(case) -> list[str]:
    allowed = allowed_roles(case.allowed)
    callers = [name for name, role in MEMBERS.items() if role in allowed]
    callers.sort(key=lambda name: -ROLE_ORDER.index(MEMBERS[name]))  # least powerful first
    return callers + (["dave"] if case.allowed == PERSONAL else [])


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "case"), CASES)
def test_role_on_endpoint(route, case):
    world = build_world()
    if case.allowed == PUBLIC:
        response = request(route, case, world, None)
        assert _succeeded(response, case), _describe(response)
        return
    allowed = allowed_roles(case.allowed)
    if case.allowed != PERSONAL:
        response = request(route, case, world, "dave")
        assert response.status_code == 404, f"dave (outside the team): {_describe(response)}"
    for name, role in MEMBERS.items():
        if role not in allowed:
            _assert_forbidden(request(route, case, world, name), route, f"{name} ({role})")
    for name in _callers_allowed(case):
        with rolled_back():
            response = request(route, case, world, name)
        if case.writes:
            world.reset_files()
        assert _succeeded(response, case), f"{name} may: {_describe(response)}"
