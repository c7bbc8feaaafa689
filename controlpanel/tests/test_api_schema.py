"""The OpenAPI schema at /api/schema/ is a contract: schemathesis calls every operation with
generated input, in process through the WSGI application, as a signed-in user, and checks that
nothing answers 500, that every status is documented and that every body matches its schema.

Bounded for CI: a few examples per operation, no shrinking, a time limit on the whole run, and
the API's rate limits raised by settings so that generated calls are not refused with 429.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from controlpanel.api.throttling import AuthRateThrottle, GeneralRateThrottle

EXAMPLES = 4
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
HIGH_RATES = {"general": "100000/min", "auth": "100000/min", "deployments": "100000/hour"}
CONFIG = {
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"mode": "positive", "no-shrink": True},
}

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def same_connection():
    """Requests run in the test's own transaction, as Django's test client arranges."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def raised_rate_limits(settings):
    from django.core.cache import cache

    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **HIGH_RATES}
    settings.REST_FRAMEWORK = rest
    cache.clear()
    assert GeneralRateThrottle().get_rate() == HIGH_RATES["general"]
    assert AuthRateThrottle().get_rate() == HIGH_RATES["auth"]


@pytest.fixture
def api_schema(same_connection, raised_rate_limits):
    config = SchemathesisConfig.from_dict(CONFIG)
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


@pytest.fixture
def bearer(alice):
    from accounts.services import token_issue

    return {"Authorization": f"Bearer {token_issue(user=alice).access}"}


def exercise(operation, headers: dict) -> None:
    """A few generated calls of one operation, each response checked."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy())
    def call(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()


def test_every_operation_keeps_its_contract(api_schema, bearer):
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # Signing out would end the session the following calls use.
        headers = {} if operation.path == "/api/auth/logout" else bearer
        try:
            exercise(operation, headers)
        except (Exception, BaseExceptionGroup) as exc:  # try them all, report every failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations > 50
    assert not failures, f"{len(failures)} operations broke the contract:\n" + "\n\n".join(failures)


def test_answers_about_real_objects_match_the_schema(api_schema, bearer, alice):
    """Generated ids rarely name a real object, so walk through one of everything and check
    each success answer against its declared serializer."""
    import io

    from conftest import PASSWORD
    from domains.tests.factories import pay_orders
    from hosting.files.uploads import Upload, files_upload
    from hosting.models import Site

    def call(method: str, path: str, status: int, headers=None, **parts) -> dict | None:
        if "body" in parts:
            parts["media_type"] = "application/json"
        case = api_schema[path][method].Case(**parts)
        response = case.call_and_validate(
            headers=bearer if headers is None else headers, checks=CHECKS
        )
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None

    site = call("POST", "/api/sites", 201, body={"name": "Docs", "slug": "docs"})
    ids = {"id": site["id"]}
    files_upload(
        site=Site.objects.get(pk=site["id"]),
        uploads=[Upload(name="index.html", stream=io.BytesIO(b"<h1>hi</h1>"), size=11)],
    )
    call("POST", "/api/hosting/spaces/{id}/folders", 201, path_parameters=ids, body={"path": "a"})
    first = call("POST", "/api/hosting/spaces/{id}/deploy", 201, path_parameters=ids)
    second = call("POST", "/api/hosting/spaces/{id}/deploy", 201, path_parameters=ids)
    assert first["stats"]["files"] == 1 and second["isLive"]
    call("POST", "/api/deployments/{id}/rollback", 201, path_parameters={"id": first["id"]})
    for path in ("/api/sites/{id}", "/api/hosting/spaces/{id}", "/api/sites/{id}/ssl"):
        call("GET", path, 200, path_parameters=ids)
    call("GET", "/api/hosting/spaces/{id}/deployments", 200, path_parameters=ids)
    listing = call("GET", "/api/hosting/spaces/{id}/files", 200, path_parameters=ids)
    assert {entry["type"] for entry in listing["files"]} == {"file", "folder"}
    call("PATCH", "/api/sites/{id}", 200, path_parameters=ids, body={"status": "offline"})
    call(
        "PATCH",
        "/api/hosting/spaces/{id}/files",
        200,
        path_parameters=ids,
        query={"path": "a"},
        body={"name": "b"},
    )
    call("DELETE", "/api/hosting/spaces/{id}/files", 200, path_parameters=ids, query={"path": "b"})
    for path in (
        "/api/sites",
        "/api/hosting/spaces",
        "/api/deployments",
        "/api/deployments/recent",
    ):
        call("GET", path, 200)
    for path in ("/api/deployments/{id}", "/api/deployments/{id}/logs"):
        call("GET", path, 200, path_parameters={"id": first["id"]})
    call("GET", "/api/dashboard/stats", 200)

    domain = call("POST", "/api/domains", 201, body={"name": "example.org", "siteId": site["id"]})
    did = {"id": domain["id"]}
    call("POST", "/api/domains/{id}/dns", 200, path_parameters=did)
    record = call(
        "POST",
        "/api/domains/{id}/records",
        201,
        path_parameters=did,
        body={"name": "mail", "type": "MX", "content": "mx.example.net", "priority": 10},
    )
    rid = {**did, "record_id": record["id"]}
    call("GET", "/api/domains/{id}/records", 200, path_parameters=did)
    call("GET", "/api/domains/{id}/records/{record_id}", 200, path_parameters=rid)
    call(
        "PATCH", "/api/domains/{id}/records/{record_id}", 200, path_parameters=rid, body={"ttl": 60}
    )
    call("DELETE", "/api/domains/{id}/records/{record_id}", 204, path_parameters=rid)
    call("PATCH", "/api/domains/{id}", 200, path_parameters=did, body={"redirect": "www_to_apex"})
    check = call("GET", "/api/domains/check", 200, query={"name": "brand"})
    available = next(r for r in check["results"] if r["available"])
    body = {"name": available["name"], "register": True}
    refused = call("POST", "/api/domains", 409, body=body)  # the price is confirmed first
    assert refused["error"]["details"]["price"] == available["price"]
    ordered = call("POST", "/api/domains", 202, body={**body, "confirmPrice": available["price"]})
    order = {"id": ordered["purchase"]["id"]}
    assert call("GET", "/api/billing/purchases/{id}", 200, path_parameters=order)["status"] == (
        "pending"
    )
    pay_orders()  # the operator marks the invoice paid: the name is registered
    done = call("GET", "/api/billing/purchases/{id}", 200, path_parameters=order)
    registered = call("GET", "/api/domains/{id}", 200, path_parameters={"id": done["domainId"]})
    assert registered["registration"]["status"] == "active"
    renewal = call("POST", "/api/domains/{id}/renew", 202, path_parameters={"id": done["domainId"]})
    call(
        "POST",
        "/api/billing/purchases/{id}/cancel",
        200,
        path_parameters={"id": renewal["purchase"]["id"]},
    )
    call("GET", "/api/domains", 200)

    for path in (
        "/api/auth/session",
        "/api/user/profile",
        "/api/user/preferences",
        "/api/user/tokens",
        "/api/user/sessions",
        "/api/security/logs",
        "/api/github/connection",
    ):
        call("GET", path, 200)
    call("PUT", "/api/user/preferences", 200, body={"theme": "dark"})
    token = call("POST", "/api/user/tokens", 201, body={"name": "CI", "expiresInDays": 30})
    call("DELETE", "/api/user/tokens/{id}", 204, path_parameters={"id": token["id"]})
    call("DELETE", "/api/github/disconnect", 200)
    signed_in = call(
        "POST",
        "/api/auth/login",
        200,
        headers={},
        body={"email": alice.email, "password": PASSWORD},
    )
    call(
        "POST",
        "/api/v1/auth/login",
        200,
        headers={},
        body={"email": alice.email, "password": PASSWORD},
    )
    call(
        "POST",
        "/api/auth/refresh",
        200,
        headers={},
        body={"refreshToken": signed_in["refreshToken"]},
    )
    call(
        "POST",
        "/api/auth/signup",
        201,
        headers={},
        body={"name": "Dana", "email": "dana@example.com", "password": PASSWORD},
    )
    call("POST", "/api/auth/forgot-password", 200, headers={}, body={"email": alice.email})


def test_the_schema_generates_without_warnings():
    """A warning means a wrong contract, e.g. two serializers sharing one component name, where
    one endpoint is then documented with the other's fields."""
    call_command("spectacular", "--fail-on-warn", "--file", os.devnull)
