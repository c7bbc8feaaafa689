"""Operators' changes through the Django admin go into the audit log.

The project's admin site (``AuditedAdminSite``, made the default by
``controlpanel.apps.BerthAdminConfig``) gives every model admin registered with it, ours and
third-party ones alike, the ``AuditedAdmin`` behaviour: each addition, change, deletion and
admin action is recorded with the operator, the object (and its team when it has one), the
time, the address and the browser, beside Django's own admin history.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import admin

from teams.audit import audit_record, team_id_of_safe
from teams.models import Team
from teams.permissions import is_operator


def admin_audit_record(request, action: str, obj, details: dict | None = None) -> None:
    """One line of the audit log for an operator's change to ``obj`` through the admin."""
    team_id = obj.pk if isinstance(obj, Team) else team_id_of_safe(obj)
    audit_record(
        team=team_id,
        actor=request.user,
        action=action,
        obj=obj,
        request=request,
        details={"via": "admin", **(details or {})},
    )


def _audited_action(func, name: str):
    @wraps(func)
    def run(modeladmin, request, queryset):
        objects = list(queryset)  # before the action, which may delete them
        response = func(modeladmin, request, queryset)
        for obj in objects:
            admin_audit_record(request, f"admin.{name}", obj)
        return response

    return run


class AuditedAdmin:
    """A ``ModelAdmin`` mixin: every change an operator makes through it is audited."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        admin_audit_record(request, "admin.add", obj, {"change": entry.get_change_message()})
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        admin_audit_record(request, "admin.change", obj, {"change": entry.get_change_message()})
        return entry

    def log_deletions(self, request, queryset):
        for obj in queryset:  # called before the deletion, so each still knows its team
            admin_audit_record(request, "admin.delete", obj)
        return super().log_deletions(request, queryset)

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {
            # Deleting through the action is recorded by log_deletions, once confirmed.
            name: (func if name == "delete_selected" else _audited_action(func, name), name, text)
            for name, (func, _, text) in actions.items()
        }


class AuditedAdminSite(admin.AdminSite):
    """The admin site: operators only (as the permission module says), and every model admin
    registered here is an ``AuditedAdmin``."""

    def has_permission(self, request):
        return is_operator(request.user)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdmin):
            admin_class = type(
                admin_class.__name__,
                (AuditedAdmin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)
