"""Operators' admin for services, incidents and subscribers; incident changes go through the
same services as the operations page (timeline entries, emails, live updates)."""

from django.contrib import admin

from monitoring import services
from monitoring.models import (
    CheckResult,
    DailyRollup,
    Host,
    HostSample,
    HourlyRollup,
    Incident,
    IncidentUpdate,
    Service,
    SiteUsageDay,
    Subscriber,
)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "kind",
        "status",
        "response_time_ms",
        "last_checked_at",
        "enabled",
    )
    list_filter = ("kind", "status", "enabled", "automatic")
    search_fields = ("name", "slug")
    readonly_fields = (
        "status",
        "response_time_ms",
        "message",
        "last_checked_at",
        "consecutive_failures",
        "consecutive_successes",
        "automatic",
    )


class IncidentUpdateInline(admin.TabularInline):
    model = IncidentUpdate
    extra = 1
    fields = ("state", "message", "author", "created_at")
    readonly_fields = ("author", "created_at")

    def has_change_permission(self, request, obj=None):
        return False  # the timeline is append-only


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "state", "severity", "automatic", "started_at", "resolved_at")
    list_filter = ("state", "severity", "automatic")
    search_fields = ("title", "description")
    filter_horizontal = ("services",)
    inlines = [IncidentUpdateInline]
    readonly_fields = ("automatic", "resolved_at", "created_by")

    def get_readonly_fields(self, request, obj=None):
        # After creation the state changes only through timeline entries.
        return (*self.readonly_fields, "state") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.resolved_at = None
            state, obj.state = obj.state, Incident.State.INVESTIGATING
            obj._first_state = state
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        form.save_m2m()
        incident = form.instance
        if not change:
            services.incident_update_add(
                incident=incident,
                state=incident._first_state,
                message=incident.description or incident.title,
                author=request.user,
            )
        for formset in formsets:
            for update in formset.save(commit=False):
                services.incident_update_add(
                    incident=incident,
                    state=update.state,
                    message=update.message,
                    author=request.user,
                )


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "confirmed_at", "created_at")
    list_filter = (("confirmed_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("email",)
    readonly_fields = ("token",)


@admin.register(Host)
class HostAdmin(admin.ModelAdmin):
    list_display = ("name", "roles", "last_seen_at", "cpu_count")
    list_filter = ("last_seen_at",)
    search_fields = ("name",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the checks and heartbeats: operators read them, nobody edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CheckResult)
class CheckResultAdmin(ReadOnlyAdmin):
    list_display = ("service", "checked_at", "status", "response_time_ms", "message")
    list_filter = ("status", "service")
    search_fields = ("service__name", "message")
    date_hierarchy = "checked_at"


@admin.register(HourlyRollup)
class HourlyRollupAdmin(ReadOnlyAdmin):
    list_display = ("service", "hour", "checks", "down", "degraded", "response_time_max_ms")
    list_filter = ("service",)
    search_fields = ("service__name",)


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = ("service", "day", "checks", "down", "degraded", "response_time_max_ms")
    list_filter = ("service",)
    search_fields = ("service__name",)


@admin.register(IncidentUpdate)
class IncidentUpdateAdmin(ReadOnlyAdmin):
    list_display = ("incident", "state", "author", "created_at")
    list_filter = ("state",)
    search_fields = ("incident__title", "message")


@admin.register(HostSample)
class HostSampleAdmin(ReadOnlyAdmin):
    list_display = ("host", "taken_at", "cpu", "memory", "disk", "load1")
    list_filter = ("host",)
    search_fields = ("host__name",)


@admin.register(SiteUsageDay)
class SiteUsageDayAdmin(ReadOnlyAdmin):
    list_display = ("site", "day", "cpu_seconds", "memory_peak", "memory_last", "sampled_at")
    list_filter = ("day",)
    search_fields = ("site__name", "site__slug")
    list_select_related = ("site",)
    raw_id_fields = ("site",)
