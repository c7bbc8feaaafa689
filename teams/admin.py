"""Operators' view of teams: members, invitations and the whole audit trail (read-only)."""

from __future__ import annotations

from django.contrib import admin

from teams.models import AuditEvent, Invitation, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "personal", "require_two_factor", "created_at")
    list_filter = ("personal", "require_two_factor")
    search_fields = ("name", "memberships__user__email")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "team__name")
    raw_id_fields = ("user", "team")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "team", "role", "status", "sent_at", "expires_at")
    list_filter = ("status", "role")
    search_fields = ("email", "team__name")
    raw_id_fields = ("team", "invited_by")
    exclude = ("key",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Every change in every team; the log is evidence, so nobody edits it."""

    list_display = ("created_at", "team_name", "actor_email", "action", "object_repr", "ip_address")
    list_filter = ("action", "object_type", "created_at")
    search_fields = ("team_name", "actor_email", "action", "object_repr", "object_id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
