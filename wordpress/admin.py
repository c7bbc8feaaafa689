"""WordPress sites in the operators' admin: the provisioning record, read-only (changes go
through the site's page)."""

from django.contrib import admin

from wordpress.models import WordPressSite


@admin.register(WordPressSite)
class WordPressSiteAdmin(admin.ModelAdmin):
    list_display = ("site", "title", "state", "version", "created_at", "finished_at")
    list_filter = ("state",)
    search_fields = ("site__slug", "title", "admin_email")
    readonly_fields = [
        field.name for field in WordPressSite._meta.fields if field.name not in ("db_password",)
    ]
    exclude = ("db_password", "admin_password")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
