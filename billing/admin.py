"""Operators run billing here: edit plans, put teams on plans (the built-in provider issues
the invoice), mark invoices paid or void them, and read and export the ledger as CSV."""

from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse

from billing import purchases, services
from billing.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Plan,
    Purchase,
    StripeEvent,
    Subscription,
    Transaction,
    UsageNotice,
)
from controlpanel.admin_records import RecordAdmin


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "price_monthly", "price_yearly", "currency", "public")
    list_editable = ("public",)
    list_filter = ("public", "currency")
    search_fields = ("name", "key", "description")
    fieldsets = (
        (None, {"fields": ("key", "name", "description", "public", "position")}),
        ("Prices", {"fields": ("price_monthly", "price_yearly", "currency")}),
        ("Stripe", {"fields": ("stripe_price_monthly", "stripe_price_yearly")}),
        (
            "Limits (empty: unlimited)",
            {
                "fields": (
                    "sites",
                    "wordpress_sites",
                    "storage_per_site_mb",
                    "bandwidth_gb",
                    "build_minutes",
                    "concurrent_builds",
                    "custom_domains",
                    "members",
                    "backup_retention_days",
                    "bandwidth_overage",
                    "throttle_kbps",
                )
            },
        ),
        (
            "WordPress PHP limits (empty: the installation's WORDPRESS_* settings)",
            {"fields": ("php_memory_mb", "php_upload_mb", "php_execution_seconds")},
        ),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"storage_per_site_mb", "bandwidth_gb"} & set(form.changed_data):
            services.plan_changed(plan=obj)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Adding a subscription here is "put this team on this plan": a paid plan gets its first
    invoice from the built-in provider."""

    list_display = ("team", "plan", "interval", "status", "provider", "current_period_end")
    list_filter = ("status", "provider", "plan")
    search_fields = ("team__name", "stripe_customer_id", "stripe_subscription_id")
    readonly_fields = (
        "provider",
        "status",
        "current_period_start",
        "current_period_end",
        "past_due_since",
        "suspended_at",
        "stripe_customer_id",
        "stripe_subscription_id",
        "stripe_synced_at",
    )
    raw_id_fields = ("team",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["fields"] = ("team", "plan", "interval")
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        previous = Subscription.objects.filter(pk=obj.pk).first() if change else None
        if previous and previous.plan_id == obj.plan_id and previous.interval == obj.interval:
            return
        fresh = services.subscription_assign(
            team=obj.team, plan=obj.plan, interval=obj.interval, actor=request.user, request=request
        )
        obj.pk = fresh.pk


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    readonly_fields = ("description", "quantity", "unit_amount", "amount")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "team_name", "status", "total", "currency", "issued_at", "paid_at")
    list_filter = ("status", "provider", "issued_at")
    search_fields = ("number", "team_name", "stripe_invoice_id")
    inlines = [InvoiceLineInline]
    actions = ["mark_paid", "void"]
    readonly_fields = [f.name for f in Invoice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark paid (records the payment in the ledger)")
    def mark_paid(self, request, queryset):
        self._each(request, queryset, services.invoice_mark_paid, "marked paid")

    @admin.action(description="Void")
    def void(self, request, queryset):
        self._each(request, queryset, services.invoice_void, "voided")

    def _each(self, request, queryset, action, done: str):
        count = 0
        for invoice in queryset:
            try:
                action(invoice=invoice, actor=request.user, request=request)
                count += 1
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.ERROR)
        if count:
            self.message_user(request, f"{count} invoice(s) {done}.", messages.SUCCESS)


class _Echo:
    def write(self, value):
        return value


CSV_COLUMNS = ["date", "team", "type", "amount", "currency", "description", "invoice"]
CSV_COLUMNS += ["provider", "reference"]


def transactions_csv(rows):
    """The ledger rows as CSV lines (streamed)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows.iterator():
        yield writer.writerow(
            [
                row.created_at.isoformat(),
                _cell(row.team_name),
                row.kind,
                f"{row.amount:.2f}",
                row.currency,
                _cell(row.description),
                row.invoice.number if row.invoice_id else "",
                row.provider,
                row.reference or "",
            ]
        )


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to spreadsheets: keep it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    """The ledger: read-only; filter it, then export what is shown as CSV."""

    list_display = ("created_at", "team_name", "kind", "amount", "currency", "description")
    list_filter = ("kind", "provider", "currency", "created_at")
    search_fields = ("team_name", "description", "reference", "invoice__number")
    date_hierarchy = "created_at"
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Export selected as CSV")
    def export_csv(self, request, queryset):
        rows = queryset.select_related("invoice").order_by("created_at")
        response = StreamingHttpResponse(transactions_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="transactions.csv"'
        return response


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "type", "event_id", "outcome", "deliveries", "message")
    list_filter = ("outcome", "type")
    search_fields = ("event_id", "type")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UsageNotice)
class UsageNoticeAdmin(admin.ModelAdmin):
    list_display = ("sent_at", "team", "site", "limit", "level", "took_offline", "restored_at")
    list_filter = ("limit", "level", "took_offline")
    search_fields = ("team__name", "site__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(RecordAdmin):
    """Rows written by billing's services alone (invoice lines, the numbering counter): shown to
    operators, changed only through the invoice and plan actions above, never deleted."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ReadOnlyAdmin):
    list_display = ("description", "invoice", "quantity", "unit_amount", "amount")
    list_filter = ("invoice__status",)
    search_fields = ("description", "invoice__number", "invoice__team__name")
    list_select_related = ("invoice",)


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "last")
    list_filter = ("last",)
    search_fields = ("last",)


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    """Orders paid before they are done (domain registrations and renewals). Operators see
    where each stands; a stuck one can be delivered again or an unpaid one cancelled."""

    list_display = ("created_at", "team", "description", "amount", "currency", "status")
    list_filter = ("status", "kind", "provider")
    search_fields = ("subject", "description", "team__name", "stripe_checkout_session_id")
    list_select_related = ("team",)
    actions = ["deliver_again", "cancel"]

    @admin.action(description="Deliver again (paid ones not yet done)")
    def deliver_again(self, request, queryset):
        done = 0
        for purchase in queryset.filter(status=Purchase.Status.PAID):
            done += purchases.purchase_fulfil(purchase=purchase).status == "fulfilled"
        self.message_user(request, f"{done} order(s) delivered.", messages.SUCCESS)

    @admin.action(description="Cancel (unpaid ones: nothing is charged)")
    def cancel(self, request, queryset):
        count = 0
        for purchase in queryset.filter(status=Purchase.Status.PENDING):
            try:
                purchases.purchase_cancel(purchase=purchase, reason="Cancelled by the operator.")
                count += 1
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.ERROR)
        self.message_user(request, f"{count} order(s) cancelled.", messages.SUCCESS)
