"""JSON shapes of accounts, in the API clients' spelling (camelCase where they use it)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import AccessToken, BrowserSession, Preferences, SecurityEvent, User


class UserSerializer(serializers.ModelSerializer):
    """The Cloud Haven client's User object plus the Autostack client's profile fields."""

    avatarUrl = serializers.SerializerMethodField()
    plan = serializers.SerializerMethodField()
    sites = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    emailVerified = serializers.SerializerMethodField()
    isOperator = serializers.BooleanField(source="is_staff", read_only=True)
    createdAt = serializers.DateTimeField(source="date_joined", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "name",
            "email",
            "avatarUrl",
            "plan",
            "sites",
            "status",
            "emailVerified",
            "isOperator",
            "createdAt",
            "updatedAt",
        ]
        read_only_fields = fields

    def get_avatarUrl(self, user) -> str | None:
        if not user.avatar:
            return None
        request = self.context.get("request")
        url = user.avatar.url
        return request.build_absolute_uri(url) if request and url.startswith("/") else url

    def get_plan(self, user) -> str:
        from accounts.selectors import user_plan_slug

        return user_plan_slug(user=user)

    def get_sites(self, user) -> int:
        from accounts.selectors import user_site_count

        return user_site_count(user=user)

    def get_status(self, user) -> str:
        return "active" if user.is_active else "suspended"

    def get_emailVerified(self, user) -> bool:
        from allauth.account.models import EmailAddress

        return EmailAddress.objects.filter(
            user=user, email__iexact=user.email, verified=True
        ).exists()


class SignupSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    username = serializers.CharField(
        max_length=254, required=False, help_text="OAuth2 form spelling"
    )
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    rememberMe = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        attrs["email"] = (attrs.get("email") or attrs.get("username") or "").strip()
        if not attrs["email"]:
            raise serializers.ValidationError({"email": ["This field is required."]})
        return attrs


class RefreshSerializer(serializers.Serializer):
    refreshToken = serializers.CharField(required=False)
    refresh_token = serializers.CharField(required=False)

    def validate(self, attrs):
        token = attrs.get("refreshToken") or attrs.get("refresh_token")
        if not token:
            raise serializers.ValidationError({"refreshToken": ["This field is required."]})
        return {"refresh": token}


class ForgotPasswordSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class ResetPasswordSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key from the emailed link: <uid>-<token>.")
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ProfileSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False)
    avatar = serializers.ImageField(required=False, allow_null=True)


class PreferencesSerializer(serializers.ModelSerializer):
    emailNotifications = serializers.BooleanField(source="email_notifications", required=False)
    deploymentSuccessNotifications = serializers.BooleanField(
        source="deploy_success_notifications", required=False
    )
    deploymentFailureNotifications = serializers.BooleanField(
        source="deploy_failure_notifications", required=False
    )
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Preferences
        fields = [
            "theme",
            "emailNotifications",
            "deploymentSuccessNotifications",
            "deploymentFailureNotifications",
            "updatedAt",
        ]
        extra_kwargs = {"theme": {"required": False}}


class DeleteAccountSerializer(serializers.Serializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class SecurityEventSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="kind")
    description = serializers.CharField(source="get_kind_display")
    ipAddress = serializers.IPAddressField(source="ip_address")
    userAgent = serializers.CharField(source="user_agent")
    timestamp = serializers.DateTimeField(source="created_at")

    class Meta:
        model = SecurityEvent
        fields = [
            "id",
            "event",
            "description",
            "email",
            "ipAddress",
            "userAgent",
            "timestamp",
            "details",
        ]
        read_only_fields = fields


class TokenSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="kind")
    createdAt = serializers.DateTimeField(source="created_at")
    expiresAt = serializers.SerializerMethodField()
    lastUsedAt = serializers.DateTimeField(source="last_used_at")
    ipAddress = serializers.IPAddressField(source="ip_address")
    userAgent = serializers.CharField(source="user_agent")
    current = serializers.SerializerMethodField()

    class Meta:
        model = AccessToken
        fields = [
            "id",
            "type",
            "name",
            "prefix",
            "createdAt",
            "expiresAt",
            "lastUsedAt",
            "ipAddress",
            "userAgent",
            "current",
        ]
        read_only_fields = fields

    def get_expiresAt(self, token) -> str | None:
        expiry = (
            token.refresh_expires_at if token.kind == AccessToken.Kind.LOGIN else token.expires_at
        )
        return serializers.DateTimeField().to_representation(expiry) if expiry else None

    def get_current(self, token) -> bool:
        request = self.context.get("request")
        return bool(request and getattr(request, "auth", None) == token)


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expiresInDays = serializers.IntegerField(
        source="expires_in_days", required=False, allow_null=True, min_value=1, max_value=3650
    )


class BrowserSessionSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(source="last_seen_at")
    ipAddress = serializers.IPAddressField(source="ip_address")
    userAgent = serializers.CharField(source="user_agent")
    current = serializers.SerializerMethodField()

    class Meta:
        model = BrowserSession
        fields = [
            "id",
            "type",
            "name",
            "createdAt",
            "lastUsedAt",
            "ipAddress",
            "userAgent",
            "current",
        ]
        read_only_fields = fields

    def get_type(self, session) -> str:
        return "browser"

    def get_name(self, session) -> str:
        return "Browser sign-in"

    def get_current(self, session) -> bool:
        request = self.context.get("request")
        return bool(request and request.session.session_key == session.session_key)
