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
    OPERATOR,
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


def _area(route: str) -> str:
    """Group endpoints by their first path segment (``api/sites`` -> ``api/sites``)."""
    parts = route.split("/")
    return "/".join(parts[:2]) if parts[0] == "api" else parts[0] or "/"


CASES_BY_AREA: dict[str, list] = {}
for _route, _entry in ENDPOINTS.items():
    if not isinstance(_entry, Exempt):
        CASES_BY_AREA.setdefault(_area(_route), []).extend((_route, c) for c in _entry)
AREAS = sorted(CASES_BY_AREA)


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


def _check_case(route, case, world) -> list[str]:
    """Call one case as everyone; answer what went wrong (nothing: the roles held)."""
    problems = []

    def call(name):
        with rolled_back():
            response = request(route, case, world, name)
        if case.writes:
            world.reset_files()
        return response

    if case.allowed == PUBLIC:
        response = call(None)
        if not _succeeded(response, case):
            problems.append(f"anonymous: {_describe(response)}")
        return problems
    if case.allowed == OPERATOR:
        for name in [*MEMBERS, "dave"]:
            response = call(name)
            refused = response.status_code == 403 or (
                response.status_code == 302 and "/admin/login/" in response["Location"]
            )
            if not refused:
                problems.append(f"{name} is no operator: {_describe(response)}")
        return problems
    allowed = allowed_roles(case.allowed)
    if case.allowed != PERSONAL:
        response = call("dave")
        if response.status_code != 404:
            problems.append(f"dave (outside the team) should get 404: {_describe(response)}")
    for name, role in MEMBERS.items():
        if role in allowed:
            continue
        response = call(name)
        if response.status_code != 403:
            problems.append(f"{name} ({role}) should get 403: {_describe(response)}")
        elif route.startswith("api/") and response.json()["error"]["code"] != "FORBIDDEN":
            problems.append(f"{name} ({role}): 403 without the FORBIDDEN envelope")
    for name in _callers_allowed(case):
        response = call(name)
        if not _succeeded(response, case):
            problems.append(f"{name} may, but got {_describe(response)}")
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("area", AREAS)
def test_roles_on_endpoints(area):
    """One world per area of the project; every call runs in a savepoint thrown away after."""
    world = build_world()
    failures = []
    for route, case in CASES_BY_AREA[area]:
        failures += [f"{case.method} /{route}: {p}" for p in _check_case(route, case, world)]
    assert not failures, "\n".join(failures)
