"""The Cloud Haven client's admin shapes: its User object, and its Site object for a user's
sites (the same serializer its site list uses)."""

from __future__ import annotations

from rest_framework import serializers

from controlpanel.api.schema import listing, paginated
from hosting.api.serializers import SiteSerializer
from operators import selectors


class AdminUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    plan = serializers.SerializerMethodField()
    sites = serializers.IntegerField(source="site_count", help_text="Sites of the user's teams.")
    status = serializers.SerializerMethodField()
    isStaff = serializers.BooleanField(source="is_staff")
    createdAt = serializers.DateTimeField(source="date_joined")

    def get_plan(self, user) -> str:
        return user.plan_key

    def get_status(self, user) -> str:
        return selectors.user_status(user)


class AdminUserQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Part of a name or email."
    )
    status = serializers.ChoiceField(
        choices=[("", "any"), *((s, s) for s in selectors.STATUSES)],
        required=False,
        allow_blank=True,
    )


AdminUserPageSerializer = paginated("AdminUserPageSerializer", "users", AdminUserSerializer)


class AdminSiteSerializer(SiteSerializer):
    """A site with its own team's plan (a user's sites may be in several teams)."""

    def get_plan(self, site) -> str:
        return site.plan_key


AdminUserSitesSerializer = listing("AdminUserSitesSerializer", "sites", AdminSiteSerializer)


class AdminUserResponseSerializer(serializers.Serializer):
    user = AdminUserSerializer()
