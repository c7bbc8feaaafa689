"""Operators' view of domains, records, certificates and the built-in registry."""

from django.contrib import admin, messages

from domains import services
from domains.models import (
    AcmeAccount,
    AcmeChallenge,
    Certificate,
    DnsRecord,
    Domain,
    RegistryEntry,
)


class DnsRecordInline(admin.TabularInline):
    model = DnsRecord
    extra = 0
    fields = ("name", "type", "content", "ttl", "priority", "managed")
    readonly_fields = fields
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False  # records change through the zone editor, which validates and publishes


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "site",
        "verification_status",
        "registration",
        "expires_at",
        "dns_hosted",
        "is_primary",
    )
    list_filter = ("verification_status", "registration", "dns_hosted", "registrar")
    search_fields = ("name", "owner__email")
    raw_id_fields = ("owner", "site")
    readonly_fields = (
        "verification_token",
        "verification_answer",
        "verified_at",
        "verification_checked_at",
        "registered_at",
        "zone_published_at",
        "zone_error",
        "created_at",
        "updated_at",
    )
    inlines = [DnsRecordInline]
    actions = ["verify_now", "publish_zone"]

    @admin.action(description="Verify now")
    def verify_now(self, request, queryset):
        for domain in queryset.select_related("site"):
            services.domain_verify(domain=domain)
        messages.success(request, f"Checked {queryset.count()} domain(s).")

    @admin.action(description="Publish zone to PowerDNS")
    def publish_zone(self, request, queryset):
        published = sum(services.zone_publish(domain=d) for d in queryset.filter(dns_hosted=True))
        messages.success(request, f"Published {published} zone(s).")


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ("domain", "status", "challenge", "not_after", "attempts", "created_at")
    list_filter = ("status", "challenge")
    search_fields = ("domain__name", "domain__owner__email")
    raw_id_fields = ("domain", "renewal_of")
    exclude = ("private_key",)
    readonly_fields = (
        "names",
        "certificate_pem",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "order_url",
        "error",
        "task_id",
        "started_at",
        "issued_at",
    )
    actions = ["retry_now"]

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        count = services.certificates_retry(queryset=queryset)
        messages.success(request, f"Queued {count} failed certificate(s) again.")


@admin.register(RegistryEntry)
class RegistryEntryAdmin(admin.ModelAdmin):
    list_display = ("name", "registrant", "created_at", "expires_at", "transfer_lock")
    list_filter = ("transfer_lock",)
    search_fields = ("name", "registrant")


@admin.register(AcmeAccount)
class AcmeAccountAdmin(admin.ModelAdmin):
    list_display = ("directory_url", "email", "uri", "created_at")
    list_filter = ("created_at",)
    search_fields = ("directory_url", "email")
    exclude = ("key",)
    readonly_fields = ("uri",)


@admin.register(DnsRecord)
class DnsRecordAdmin(admin.ModelAdmin):
    """Read-only: records change through the zone editor, which validates and publishes."""

    list_display = ("name", "type", "content", "ttl", "domain", "managed")
    list_filter = ("type", "managed")
    search_fields = ("domain__name", "content", "domain__owner__email")
    raw_id_fields = ("domain",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AcmeChallenge)
class AcmeChallengeAdmin(admin.ModelAdmin):
    list_display = ("hostname", "kind", "certificate", "created_at")
    list_filter = ("kind",)
    search_fields = ("hostname", "certificate__domain__owner__email")
    readonly_fields = ("certificate", "kind", "hostname", "token", "key_authorization")
