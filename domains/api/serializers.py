"""JSON shapes of the domains API (camelCase, like the API clients) and the input it accepts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controlpanel.api.schema import IsoDateTimeField, listing, paginated
from domains import selectors
from domains.models import Certificate, DnsRecord, Domain


class DomainCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=300)
    siteId = serializers.UUIDField(source="site", required=False, allow_null=True)
    register = serializers.BooleanField(default=False)
    years = serializers.IntegerField(default=1, min_value=1, max_value=10)
    confirmPrice = serializers.DecimalField(
        source="confirm_price",
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        coerce_to_string=True,
        help_text=(
            "With register: the yearly price the customer accepted, as /api/domains/check "
            "gives it. A registration without it, or at another price, is refused with 409 "
            "PRICE_NOT_CONFIRMED and the current price in details; nothing is charged."
        ),
    )


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


# --- answers: timestamps as Python's isoformat() (``+00:00``), as this API always wrote them ---


class CertificateSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    domainId = serializers.UUIDField(source="domain_id")
    domain = serializers.CharField(source="domain.name")
    names = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=Certificate.Status.choices)
    challenge = serializers.ChoiceField(choices=Certificate.Challenge.choices)
    issuer = serializers.CharField()
    issuedAt = IsoDateTimeField(source="issued_at", allow_null=True)
    expiresAt = IsoDateTimeField(source="not_after", allow_null=True)
    daysLeft = serializers.IntegerField(source="days_left", allow_null=True)
    error = serializers.CharField()
    attempts = serializers.IntegerField()
    nextAttemptAt = IsoDateTimeField(source="next_attempt_at", allow_null=True)
    createdAt = IsoDateTimeField(source="created_at")


class DnsInstructionSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    value = serializers.CharField()


class VerificationInstructionsSerializer(serializers.Serializer):
    """The records that prove a domain at its DNS host; any one suffices."""

    txt = DnsInstructionSerializer()
    cname = DnsInstructionSerializer()
    a = DnsInstructionSerializer(many=True)


class VerificationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        source="verification_status", choices=Domain.Verification.choices
    )
    method = serializers.SerializerMethodField()
    verifiedAt = IsoDateTimeField(source="verified_at", allow_null=True)
    checkedAt = IsoDateTimeField(source="verification_checked_at", allow_null=True)
    error = serializers.CharField(source="verification_error")
    answer = serializers.JSONField(source="verification_answer", help_text="What DNS answered.")
    instructions = serializers.SerializerMethodField()

    @extend_schema_field(
        {"type": "string", "enum": Domain.Method.values, "nullable": True},
    )
    def get_method(self, domain) -> str | None:
        return domain.verification_method or None

    @extend_schema_field(VerificationInstructionsSerializer)
    def get_instructions(self, domain) -> dict:
        return selectors.verification_instructions(domain)


class RegistrationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(source="registration", choices=Domain.Registration.choices)
    registrar = serializers.CharField()
    registeredAt = IsoDateTimeField(source="registered_at", allow_null=True)
    expiresAt = IsoDateTimeField(source="expires_at", allow_null=True)
    daysLeft = serializers.IntegerField(source="days_to_expiry", allow_null=True)
    autoRenew = serializers.BooleanField(source="auto_renew")
    transferLock = serializers.BooleanField(source="transfer_lock")
    nameservers = serializers.ListField(child=serializers.CharField())


class ZoneStateSerializer(serializers.Serializer):
    hosted = serializers.BooleanField(source="dns_hosted")
    publishedAt = IsoDateTimeField(source="zone_published_at", allow_null=True)
    error = serializers.CharField(source="zone_error")


class DomainSerializer(serializers.Serializer):
    """A domain: verification, routing, registration, DNS hosting and its current certificate."""

    id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    unicodeName = serializers.CharField(source="display_name")
    siteId = serializers.UUIDField(source="site_id", allow_null=True)
    status = serializers.ChoiceField(
        source="verification_status", choices=Domain.Verification.choices
    )
    verificationToken = serializers.CharField(source="verification_token")
    verification = VerificationSerializer(source="*")
    isPrimary = serializers.BooleanField(source="is_primary")
    redirect = serializers.ChoiceField(choices=Domain.Redirect.choices)
    hostnames = serializers.ListField(child=serializers.CharField())
    autoRenew = serializers.BooleanField(source="auto_renew")
    transferLock = serializers.BooleanField(source="transfer_lock")
    registration = serializers.SerializerMethodField()
    dns = ZoneStateSerializer(source="*")
    certificate = serializers.SerializerMethodField()
    createdAt = IsoDateTimeField(source="created_at")
    updatedAt = IsoDateTimeField(source="updated_at")

    @extend_schema_field(RegistrationSerializer(allow_null=True))
    def get_registration(self, domain) -> dict | None:
        return RegistrationSerializer(domain).data if domain.is_registered else None

    @extend_schema_field(CertificateSerializer(allow_null=True))
    def get_certificate(self, domain) -> dict | None:
        cert = selectors.current_certificate(domain)
        return CertificateSerializer(cert).data if cert else None


DomainPageSerializer = paginated("DomainPageSerializer", "domains", DomainSerializer)


class RecordAnswerSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="pk")
    name = serializers.CharField()
    fqdn = serializers.CharField()
    type = serializers.ChoiceField(choices=DnsRecord.Type.choices)
    content = serializers.CharField()
    ttl = serializers.IntegerField()
    priority = serializers.IntegerField(allow_null=True)
    managed = serializers.BooleanField(help_text="Kept by Berth (apex, www, verification).")
    updatedAt = IsoDateTimeField(source="updated_at")


RecordListSerializer = listing("RecordListSerializer", "records", RecordAnswerSerializer)
CertificateListSerializer = listing(
    "CertificateListSerializer", "certificates", CertificateSerializer
)


class DomainCheckResultSerializer(serializers.Serializer):
    """One name's availability (``domains.services.SearchResult``)."""

    name = serializers.CharField()
    unicodeName = serializers.CharField(source="display_name")
    available = serializers.BooleanField()
    price = serializers.SerializerMethodField(help_text="Per year, a decimal string.")
    currency = serializers.CharField()
    reason = serializers.CharField()
    registrar = serializers.CharField()

    renewalPrice = serializers.SerializerMethodField(help_text="Per year at each renewal.")

    def get_price(self, result) -> str | None:
        return str(result.price) if result.price is not None else None

    def get_renewalPrice(self, result) -> str | None:
        return str(result.renewal_price) if result.renewal_price is not None else None


class RegistrationQuoteSerializer(serializers.Serializer):
    """What a registration costs now (``domains.services.RegistrationQuote``): decimal strings."""

    name = serializers.CharField()
    unicodeName = serializers.CharField(source="display_name")
    years = serializers.IntegerField()
    price = serializers.CharField(help_text="Per year: send it back as confirmPrice.")
    renewalPrice = serializers.CharField(source="renewal_price", help_text="Per year.")
    total = serializers.CharField(help_text="Charged now: price × years.")
    currency = serializers.CharField()
    registrar = serializers.CharField()


class DomainCheckSerializer(serializers.Serializer):
    query = serializers.CharField()
    results = DomainCheckResultSerializer(many=True)
    suggestions = DomainCheckResultSerializer(many=True)
