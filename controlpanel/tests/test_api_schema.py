"""The OpenAPI schema at /api/schema/ is a contract: schemathesis calls every operation with
generated input, in process through the WSGI application, as a signed-in user, and checks that
nothing answers 500, that every status is documented and that every body matches its schema.

Bounded for CI: a few examples per operation, no shrinking, a time limit on the whole run, and
the API's rate limits raised by settings so that generated calls are not refused with 429.
"""

from __future__ import annotations

import pytest
import schemathesis
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
