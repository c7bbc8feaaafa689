"""Issue on verification through the broker: a real Celery worker runs the ACME order."""

from __future__ import annotations

import time

import pytest

from deployments.tests.conftest import WorkerProcess, _purge_broker
from domains.models import Certificate
from domains.tests.factories import make_site, register_domain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(settings, tmp_path, pebble):
    """The builds' worker subprocess (same test database and broker) with the domains settings."""
    _purge_broker()
    env = {
        "SECRET_KEY": settings.SECRET_KEY,
        "SITES_DOMAIN": settings.SITES_DOMAIN,
        "EDGE_ROOT": str(settings.EDGE_ROOT),
        "EDGE_IPV4": ",".join(settings.EDGE_IPV4),
        "PDNS_API_URL": settings.PDNS_API_URL,
        "PDNS_API_KEY": settings.PDNS_API_KEY,
        "DNS_RESOLVERS": ",".join(settings.DNS_RESOLVERS),
        "DNS_NAMESERVERS": ",".join(settings.DNS_NAMESERVERS),
        "BERTH_REGISTRY_TLDS": ",".join(
            f"{k}={v}" for k, v in settings.BERTH_REGISTRY_TLDS.items()
        ),
        "ACME_DIRECTORY_URL": settings.ACME_DIRECTORY_URL,
        "ACME_CA_BUNDLE": settings.ACME_CA_BUNDLE,
        "ACME_EMAIL": settings.ACME_EMAIL,
    }
    process = WorkerProcess(tmp_path, settings, extra_env=env)
    yield process
    process.stop()


def test_a_certificate_is_issued_by_the_worker_once_the_domain_is_verified(alice, settings, worker):
    settings.ACME_AUTO_ISSUE = True
    site = make_site(alice)
    domain = register_domain(owner=alice, name="brand.test", site=site)
    cert = Certificate.objects.get(domain=domain)
    deadline = time.monotonic() + 90
    while cert.status in ("pending", "issuing") and time.monotonic() < deadline:
        time.sleep(0.2)
        cert.refresh_from_db()
    assert cert.status == "active", cert.error or worker.output()[-3000:]
    assert cert.task_id and cert.challenge == "dns-01"
