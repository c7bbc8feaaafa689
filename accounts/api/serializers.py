"""JSON shapes of accounts, in the API clients' spelling (camelCase where they use it)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from accounts.models import AccessToken, BrowserSession, Preferences, SecurityEvent, User
from controlpanel.api.schema import IsoDateTimeField, listing, paginated


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
        from accounts.selectors import user_status

        return user_status(user=user)

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
    password = serializers.CharField(max_length=128, trim_whitespace=False, required=False)
    rememberMe = serializers.BooleanField(required=False, default=False)
    challenge = serializers.CharField(
        max_length=500, required=False, help_text="From a TWO_FACTOR_REQUIRED answer"
    )
    code = serializers.CharField(
        max_length=64, required=False, help_text="Authenticator app code or a recovery code"
    )

    def validate(self, attrs):
        if attrs.get("challenge"):
            if not attrs.get("code"):
                raise serializers.ValidationError({"code": ["Enter the code."]})
            return attrs
        attrs["email"] = (attrs.get("email") or attrs.get("username") or "").strip()
        if not attrs["email"]:
            raise serializers.ValidationError({"email": ["This field is required."]})
        if not attrs.get("password"):
            raise serializers.ValidationError({"password": ["This field is required."]})
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
    ipAddress = serializers.IPAddressField(source="ip_address", allow_null=True)
    userAgent = serializers.CharField(source="user_agent")
    timestamp = serializers.DateTimeField(source="created_at")
    details = serializers.DictField()

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
    type = serializers.ChoiceField(source="kind", choices=AccessToken.Kind.choices)
    createdAt = serializers.DateTimeField(source="created_at")
    expiresAt = serializers.SerializerMethodField()
    lastUsedAt = serializers.DateTimeField(source="last_used_at", allow_null=True)
    ipAddress = serializers.IPAddressField(source="ip_address", allow_null=True)
    userAgent = serializers.CharField(source="user_agent")
    current = serializers.SerializerMethodField()
    scopes = serializers.SerializerMethodField()

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
            "team",
            "scopes",
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

    def get_scopes(self, token) -> list[str]:
        return token.scopes.split()


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expiresInDays = serializers.IntegerField(
        source="expires_in_days", required=False, allow_null=True, min_value=1, max_value=3650
    )
    team = serializers.UUIDField(
        required=False, allow_null=True, help_text="Make a team token acting only in this team"
    )
    password = serializers.CharField(
        max_length=128, required=False, trim_whitespace=False, help_text="When asked again"
    )
    code = serializers.CharField(max_length=64, required=False, help_text="Or a two-factor code")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=AccessToken.SCOPES),
        required=False,
        max_length=2,
        help_text="Operators only: admin:read, admin:write (the admin API).",
    )


class EmailChangeSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="The new sign-in address")
    password = serializers.CharField(
        max_length=128, required=False, trim_whitespace=False, help_text="When asked again"
    )
    code = serializers.CharField(max_length=64, required=False, help_text="Or a two-factor code")


class EmailChangeSentSerializer(serializers.Serializer):
    message = serializers.CharField()
    email = serializers.EmailField(help_text="Where the confirmation link went")
    expiresIn = serializers.IntegerField(help_text="Seconds the link works for")


class EmailConfirmSerializer(serializers.Serializer):
    key = serializers.CharField(
        max_length=1000,
        help_text="The last part of the emailed link (…/settings/email/confirm/<key>/)",
    )


class BrowserSessionSerializer(serializers.ModelSerializer):
    type = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    lastUsedAt = serializers.DateTimeField(source="last_seen_at", allow_null=True)
    ipAddress = serializers.IPAddressField(source="ip_address", allow_null=True)
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

    @extend_schema_field({"type": "string", "enum": ["browser"]})
    def get_type(self, session) -> str:
        return "browser"

    def get_name(self, session) -> str:
        return "Browser sign-in"

    def get_current(self, session) -> bool:
        request = self.context.get("request")
        return bool(request and request.session.session_key == session.session_key)


# --- answers ----------------------------------------------------------------------------------


class TokenPairSerializer(serializers.Serializer):
    """Sign-up, sign-in and refresh: the user and a new access/refresh token pair.

    Serializes ``accounts.services.IssuedToken``."""

    user = UserSerializer(source="token.user")
    token = serializers.CharField(source="access", help_text="The access token (older spelling).")
    accessToken = serializers.CharField(source="access")
    refreshToken = serializers.CharField(source="refresh")
    tokenType = serializers.SerializerMethodField()
    expiresIn = serializers.SerializerMethodField()
    expiresAt = IsoDateTimeField(source="token.expires_at", allow_null=True)

    def get_tokenType(self, issued) -> str:
        return "Bearer"

    def get_expiresIn(self, issued) -> int | None:
        # What is left of the access token's life: the whole lifetime for a fresh or refreshed
        # one (created_at is when the sign-in began, and a hair after expires_at was computed).
        token = issued.token
        if not token.expires_at:
            return None
        return round((token.expires_at - timezone.now()).total_seconds())


class OAuth2TokenPairSerializer(TokenPairSerializer):
    """The Copro client's ``/api/v1/auth/login`` answer: also the OAuth2 snake_case names."""

    access_token = serializers.CharField(source="access")
    refresh_token = serializers.CharField(source="refresh")
    token_type = serializers.SerializerMethodField()

    def get_token_type(self, issued) -> str:
        return "bearer"


class SessionInfoSerializer(serializers.Serializer):
    id = serializers.CharField(
        allow_null=True, help_text="The API session's id; null in a browser."
    )
    type = serializers.ChoiceField(choices=[*AccessToken.Kind.values, "browser"])
    createdAt = serializers.DateTimeField(allow_null=True)
    expiresAt = serializers.DateTimeField(allow_null=True)


class CurrentSessionSerializer(serializers.Serializer):
    """``GET /api/auth/session``: who is signed in, and through what."""

    user = UserSerializer()
    session = SessionInfoSerializer()
    authenticated = serializers.BooleanField()


class TokenCreatedSerializer(TokenSerializer):
    """A new personal token, with its secret value: shown this once only."""

    token = serializers.SerializerMethodField()

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields

    def get_token(self, token) -> str:
        return self.context["access"]


TokenListSerializer = listing("TokenListSerializer", "tokens", TokenSerializer)

SignInSerializer = PolymorphicProxySerializer(
    component_name="SignIn",
    serializers=[BrowserSessionSerializer, TokenSerializer],
    resource_type_field_name=None,
    many=True,
)


class SessionListSerializer(serializers.Serializer):
    """Browser sessions and API sign-ins, each revocable with DELETE /api/user/sessions/<id>."""

    sessions = serializers.SerializerMethodField()

    @extend_schema_field(SignInSerializer)
    def get_sessions(self, data) -> list:
        browsers = BrowserSessionSerializer(data["browsers"], many=True, context=self.context)
        tokens = TokenSerializer(data["tokens"], many=True, context=self.context)
        return list(browsers.data) + list(tokens.data)


SecurityLogPageSerializer = paginated("SecurityLogPageSerializer", "logs", SecurityEventSerializer)
