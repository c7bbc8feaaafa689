"""Celery entry points of the domains app: thin, idempotent, taking primary keys.

Periodic: re-verify pending domains (every DOMAIN_VERIFY_INTERVAL), certificate upkeep (retries
with backoff, renewals CERT_RENEW_DAYS before expiry) every 5 minutes, registration upkeep
(auto-renew, expiry, reminder emails) daily.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from controlpanel.celery import app
from domains import certificates, services
from domains.models import Domain


@shared_task(acks_late=True)
def certificate_issue(certificate_id: str) -> str | None:
    """Run the ACME order of one pending certificate; a second delivery finds it claimed."""
    cert = certificates.certificate_issue(certificate_id=certificate_id)
    return cert.status if cert else None


@shared_task
def domain_verify(domain_id: str) -> str | None:
    domain = Domain.objects.select_related("site").filter(pk=domain_id).first()
    if domain is None:
        return None
    return services.domain_verify(domain=domain).verification_status


@shared_task
def domains_verify_due() -> int:
    return services.domains_verify_due()


@shared_task
def certificates_maintain() -> dict:
    return certificates.certificates_maintain()


@shared_task
def registrations_maintain() -> dict:
    return services.registrations_maintain()


app.conf.beat_schedule.update(
    {
        "domains-verify-due": {
            "task": "domains.tasks.domains_verify_due",
            "schedule": float(max(60, settings.DOMAIN_VERIFY_INTERVAL)),
        },
        "domains-certificates-maintain": {
            "task": "domains.tasks.certificates_maintain",
            "schedule": 300.0,
        },
        "domains-registrations-maintain": {
            "task": "domains.tasks.registrations_maintain",
            "schedule": 86400.0,
        },
    }
)
