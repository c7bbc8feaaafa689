"""The Django admin's base for records that only a service writes (runs, revisions, invoice
lines): operators see and search them; adding or changing them happens elsewhere."""

from __future__ import annotations

from django.contrib import admin


class RecordAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
