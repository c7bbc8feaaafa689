"""Operators add templates here (the shipped ones are kept in step with editor/starters/)."""

from __future__ import annotations

from django.contrib import admin

from controlpanel.admin_records import RecordAdmin
from editor.models import Page, Publication, Revision, Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "category", "builtin", "position")
    list_filter = ("builtin", "category")
    search_fields = ("name", "slug")
    readonly_fields = ("builtin", "created_at", "updated_at")


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    """Pages are changed by their team in the editor (its services check every change); the
    admin shows them."""

    list_display = ("title", "site", "slug", "is_home", "revision", "updated_at")
    list_filter = ("is_home", "updated_at")
    search_fields = ("title", "slug", "site__slug")
    list_select_related = ("site",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class HistoryAdmin(RecordAdmin):
    """A page's revisions and a site's publications are its history: shown, never rewritten."""


@admin.register(Revision)
class RevisionAdmin(HistoryAdmin):
    list_display = ("page", "number", "reason", "size", "author", "created_at")
    list_filter = ("reason", "created_at")
    search_fields = ("page__title", "page__site__slug", "author__email")
    list_select_related = ("page", "author")
    exclude = ("document",)


@admin.register(Publication)
class PublicationAdmin(HistoryAdmin):
    list_display = ("site", "deployment", "author", "created_at")
    list_filter = ("created_at",)
    search_fields = ("site__slug", "author__email")
    list_select_related = ("site", "deployment", "author")
