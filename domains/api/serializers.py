"""JSON shapes of the domains API (camelCase, like the API clients) and the input it accepts."""

from __future__ import annotations

from rest_framework import serializers

from domains import selectors
from domains.models import Certificate, DnsRecord, Domain


def _iso(value):
    return value.isoformat() if value else None


def certificate_json(cert: Certificate) -> dict:
    return {
        "id": str(cert.pk),
        "domainId": str(cert.domain_id),
        "domain": cert.domain.name,
        "names": cert.names,
        "status": cert.status,
        "challenge": cert.challenge,
        "issuer": cert.issuer,
        "issuedAt": _iso(cert.issued_at),
        "expiresAt": _iso(cert.not_after),
        "daysLeft": cert.days_left,
        "error": cert.error,
        "attempts": cert.attempts,
        "nextAttemptAt": _iso(cert.next_attempt_at),
        "createdAt": _iso(cert.created_at),
    }


def domain_json(domain: Domain) -> dict:
    cert = selectors.current_certificate(domain)
    registration = None
    if domain.is_registered:
        registration = {
            "status": domain.registration,
            "registrar": domain.registrar,
            "registeredAt": _iso(domain.registered_at),
            "expiresAt": _iso(domain.expires_at),
            "daysLeft": domain.days_to_expiry,
            "autoRenew": domain.auto_renew,
            "transferLock": domain.transfer_lock,
            "nameservers": domain.nameservers,
        }
    return {
        "id": str(domain.pk),
        "name": domain.name,
        "unicodeName": domain.display_name,
        "siteId": str(domain.site_id) if domain.site_id else None,
        "status": domain.verification_status,
        "verificationToken": domain.verification_token,
        "verification": {
            "status": domain.verification_status,
            "method": domain.verification_method or None,
            "verifiedAt": _iso(domain.verified_at),
            "checkedAt": _iso(domain.verification_checked_at),
            "error": domain.verification_error,
            "answer": domain.verification_answer,
            "instructions": selectors.verification_instructions(domain),
        },
        "isPrimary": domain.is_primary,
        "redirect": domain.redirect,
        "hostnames": domain.hostnames,
        "autoRenew": domain.auto_renew,
        "transferLock": domain.transfer_lock,
        "registration": registration,
        "dns": {
            "hosted": domain.dns_hosted,
            "publishedAt": _iso(domain.zone_published_at),
            "error": domain.zone_error,
        },
        "certificate": certificate_json(cert) if cert else None,
        "createdAt": _iso(domain.created_at),
        "updatedAt": _iso(domain.updated_at),
    }


def record_json(record: DnsRecord) -> dict:
    return {
        "id": str(record.pk),
        "name": record.name,
        "fqdn": record.fqdn,
        "type": record.type,
        "content": record.content,
        "ttl": record.ttl,
        "priority": record.priority,
        "managed": record.managed,
        "updatedAt": _iso(record.updated_at),
    }


class DomainCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=300)
    siteId = serializers.UUIDField(source="site", required=False, allow_null=True)
    register = serializers.BooleanField(default=False)
    years = serializers.IntegerField(default=1, min_value=1, max_value=10)


class DomainUpdateSerializer(serializers.Serializer):
    siteId = serializers.UUIDField(source="site", required=False, allow_null=True)
    isPrimary = serializers.BooleanField(source="is_primary", required=False)
    redirect = serializers.ChoiceField(choices=Domain.Redirect.values, required=False)
    autoRenew = serializers.BooleanField(source="auto_renew", required=False)
    transferLock = serializers.BooleanField(source="transfer_lock", required=False)
    nameservers = serializers.ListField(
        child=serializers.CharField(max_length=253), required=False, max_length=13
    )


class RenewSerializer(serializers.Serializer):
    years = serializers.IntegerField(default=1, min_value=1, max_value=10)


class RecordSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=253, allow_blank=True, default="@")
    type = serializers.CharField(max_length=6)
    content = serializers.CharField(max_length=2000, trim_whitespace=True)
    ttl = serializers.IntegerField(required=False)
    priority = serializers.IntegerField(required=False, allow_null=True)


class RecordUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=253, required=False, allow_blank=True)
    type = serializers.CharField(max_length=6, required=False)
    content = serializers.CharField(max_length=2000, required=False)
    ttl = serializers.IntegerField(required=False)
    priority = serializers.IntegerField(required=False, allow_null=True)


class CertificateRequestSerializer(serializers.Serializer):
    domainId = serializers.UUIDField(required=False)
    domain = serializers.CharField(required=False, max_length=253)
    names = serializers.ListField(
        child=serializers.CharField(max_length=253), required=False, max_length=20
    )
    challenge = serializers.ChoiceField(choices=Certificate.Challenge.values, required=False)
