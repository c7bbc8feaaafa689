from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import (
    AccessToken,
    BrowserSession,
    Notification,
    Preferences,
    SecurityEvent,
    User,
)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PreferencesInline(admin.StackedInline):
    model = Preferences
    can_delete = False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    inlines = [PreferencesInline]
    list_display = ("email", "name", "is_active", "is_staff", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    search_fields = ("email", "name")
    ordering = ("email",)
    readonly_fields = ("date_joined", "last_login", "updated_at")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "avatar")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ("user", "theme", "email_notifications", "updated_at")
    list_filter = ("theme", "email_notifications")
    search_fields = ("user__email", "user__name")
    raw_id_fields = ("user",)


@admin.action(description="Revoke the selected tokens")
def revoke_tokens(modeladmin, request, queryset):
    from accounts.services import token_revoke

    for token in queryset.filter(revoked_at__isnull=True):
        token_revoke(token=token, request=request)


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "user",
        "kind",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("kind", "created_at", "revoked_at")
    search_fields = ("user__email", "name", "prefix", "ip_address")
    readonly_fields = ("access_digest", "refresh_digest", "prefix", "created_at", "last_used_at")
    raw_id_fields = ("user",)
    actions = [revoke_tokens]


@admin.register(BrowserSession)
class BrowserSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "ip_address", "user_agent", "created_at", "last_seen_at")
    list_filter = ("created_at",)
    search_fields = ("user__email", "ip_address", "user_agent")
    raw_id_fields = ("user",)


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "email", "user", "ip_address")
    list_filter = ("kind", "created_at")
    search_fields = ("email", "user__email", "ip_address", "user_agent")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    readonly_fields = [f.name for f in SecurityEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "level", "message")
    list_filter = ("level", "created_at")
    search_fields = ("user__email", "message")
    raw_id_fields = ("user",)
