"""Operators' views of sites and their traffic. Writes go through hosting.services."""

from django.contrib import admin, messages
from django.template.defaultfilters import filesizeformat

from controlpanel.admin_records import RecordAdmin
from hosting import services
from hosting.models import Site, SiteBandwidth, SitePathDay, SiteStatusDay


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "owner",
        "kind",
        "status",
        "storage",
        "live_deployment",
        "created_at",
    )
    list_filter = ("status", "kind", "created_at")
    search_fields = ("name", "slug", "owner__email", "owner__name")
    list_select_related = ("owner", "live_deployment")
    raw_id_fields = ("owner", "live_deployment")
    readonly_fields = ("id", "slug", "storage_used", "live_deployment", "created_at", "updated_at")
    date_hierarchy = "created_at"
    actions = ["recount_storage", "take_offline", "bring_online"]

    @admin.display(description="Storage", ordering="storage_used")
    def storage(self, site: Site) -> str:
        return f"{filesizeformat(site.storage_used)} / {filesizeformat(site.storage_limit)}"

    @admin.action(description="Recount storage used from the stored files")
    def recount_storage(self, request, queryset):
        for site in queryset:
            services.site_storage_recount(site=site)
        self.message_user(request, f"Recounted {queryset.count()} sites.", messages.SUCCESS)

    @admin.action(description="Take offline (visitors get 503)")
    def take_offline(self, request, queryset):
        for site in queryset:
            services.site_set_offline(site=site, offline=True)

    @admin.action(description="Bring online")
    def bring_online(self, request, queryset):
        for site in queryset:
            services.site_set_offline(site=site, offline=False)

    def delete_model(self, request, obj):
        services.site_delete(site=obj)

    def delete_queryset(self, request, queryset):
        # The same path as the owner's delete: working files go too.
        for site in queryset:
            services.site_delete(site=site)


@admin.register(SiteBandwidth)
class SiteBandwidthAdmin(admin.ModelAdmin):
    list_display = ("site", "day", "sent", "requests")
    list_filter = ("day",)
    search_fields = ("site__name", "site__slug", "site__owner__email")
    list_select_related = ("site",)
    raw_id_fields = ("site",)
    date_hierarchy = "day"

    @admin.display(description="Bytes sent", ordering="bytes_sent")
    def sent(self, row: SiteBandwidth) -> str:
        return filesizeformat(row.bytes_sent)


@admin.register(SiteStatusDay)
class SiteStatusDayAdmin(RecordAdmin):
    list_display = ("site", "day", "status", "requests")
    list_filter = ("day", "status")
    search_fields = ("site__name", "site__slug", "site__owner__email")
    list_select_related = ("site",)
    raw_id_fields = ("site",)
    date_hierarchy = "day"


@admin.register(SitePathDay)
class SitePathDayAdmin(RecordAdmin):
    list_display = ("site", "day", "shown_path", "requests", "sent")
    list_filter = ("day",)
    search_fields = ("site__name", "site__slug", "path")
    list_select_related = ("site",)
    raw_id_fields = ("site",)
    date_hierarchy = "day"

    @admin.display(description="Path", ordering="path")
    def shown_path(self, row: SitePathDay) -> str:
        return row.path or "(all other paths)"

    @admin.display(description="Bytes sent", ordering="bytes_sent")
    def sent(self, row: SitePathDay) -> str:
        return filesizeformat(row.bytes_sent)
