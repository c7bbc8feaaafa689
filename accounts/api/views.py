"""Auth, profile, preferences, tokens, sessions and security log over the REST API."""

from __future__ import annotations

from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api import serializers as s
from accounts.models import AccessToken, BrowserSession
from controlpanel.api.exceptions import ApiError, ValidationFailed
from controlpanel.api.throttling import AuthRateThrottle
from controlpanel.api.views import validated


def _token_payload(issued: services.IssuedToken, request) -> dict:
    token = issued.token
    # What is left of the access token's life: the whole lifetime for a fresh or refreshed one.
    seconds = (
        round((token.expires_at - timezone.now()).total_seconds()) if token.expires_at else None
    )
    return {
        "user": s.UserSerializer(token.user, context={"request": request}).data,
        "token": issued.access,
        "accessToken": issued.access,
        "refreshToken": issued.refresh,
        "tokenType": "Bearer",
        "expiresIn": seconds,
        "expiresAt": token.expires_at.isoformat() if token.expires_at else None,
    }


class AuthView(APIView):
    """Public auth endpoints: no session (so no CSRF), 5 requests a minute per IP."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]


class SignupView(AuthView):
    @extend_schema(request=s.SignupSerializer, responses={201: dict}, tags=["auth"])
    def post(self, request):
        data = s.SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        name = data.validated_data.get("name") or data.validated_data["email"].split("@")[0]
        with transaction.atomic():
            user = services.user_create(
                email=data.validated_data["email"],
                password=data.validated_data["password"],
                name=name,
                request=request,
            )
            issued = services.token_issue(user=user, request=request)
        return Response(_token_payload(issued, request), status=status.HTTP_201_CREATED)


class LoginView(AuthView):
    """``POST /api/auth/login`` (JSON) and ``/api/v1/auth/login`` (also OAuth2 form fields)."""

    oauth2_spelling = False

    @extend_schema(request=s.LoginSerializer, responses={200: dict}, tags=["auth"])
    def post(self, request):
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            issued = services.api_login(
                email=data.validated_data["email"],
                password=data.validated_data["password"],
                request=request,
            )
        except services.SignInThrottled as exc:
            raise ApiError(429, "RATE_LIMIT_EXCEEDED", str(exc)) from exc
        if issued is None:
            raise ApiError(401, "UNAUTHORIZED", "Invalid email or password.")
        payload = _token_payload(issued, request)
        if self.oauth2_spelling:
            payload.update(
                access_token=issued.access,
                refresh_token=issued.refresh,
                token_type="bearer",  # noqa: S106
            )
        return Response(payload)


class OAuth2LoginView(LoginView):
    """The Copro client's ``/api/v1/auth/login``: also ``username`` form fields and snake_case
    tokens."""

    oauth2_spelling = True

    @extend_schema(
        request=s.LoginSerializer,
        responses={200: dict},
        tags=["auth"],
        operation_id="v1_auth_login",
    )
    def post(self, request):
        return super().post(request)


class RefreshView(AuthView):
    @extend_schema(request=s.RefreshSerializer, responses={200: dict}, tags=["auth"])
    def post(self, request):
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.token_refresh(refresh=data.validated_data["refresh"], request=request)
        if issued is None:
            raise ApiError(401, "UNAUTHORIZED", "The refresh token is invalid, expired or revoked.")
        return Response(_token_payload(issued, request))


class ForgotPasswordView(AuthView):
    @extend_schema(request=s.ForgotPasswordSerializer, responses={200: dict}, tags=["auth"])
    def post(self, request):
        data = s.ForgotPasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(
            email=data.validated_data["email"], request=request._request
        )
        return Response({"message": "If an account uses that address, a reset link is on its way."})


class ResetPasswordView(AuthView):
    @extend_schema(request=s.ResetPasswordSerializer, responses={200: dict}, tags=["auth"])
    def post(self, request):
        data = s.ResetPasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(
            key=data.validated_data["token"],
            password=data.validated_data["password"],
            request=request,
        )
        return Response({"message": "Your password has been changed. Sign in with it now."})


class LogoutView(APIView):
    @extend_schema(request=None, responses={200: dict}, tags=["auth"])
    def post(self, request):
        if isinstance(request.auth, AccessToken):
            services.api_logout(token=request.auth, request=request)
        else:
            logout(request._request)
        return Response({"message": "Signed out."})


class SessionView(APIView):
    @extend_schema(responses={200: dict}, tags=["auth"])
    def get(self, request):
        if isinstance(request.auth, AccessToken):
            token = request.auth
            session = {
                "id": str(token.pk),
                "type": token.kind,
                "createdAt": token.created_at,
                "expiresAt": token.expires_at,
            }
        else:
            session = {
                "id": None,
                "type": "browser",
                "createdAt": None,
                "expiresAt": request.session.get_expiry_date(),
            }
        user = s.UserSerializer(request.user, context={"request": request}).data
        return Response({"user": user, "session": session, "authenticated": True})


class ProfileView(APIView):
    @extend_schema(responses={200: s.UserSerializer}, tags=["user"])
    def get(self, request):
        return Response(s.UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(request=s.ProfileSerializer, responses={200: s.UserSerializer}, tags=["user"])
    def put(self, request):
        data = s.ProfileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "email" in request.data and request.data["email"] != request.user.email:
            raise ValidationFailed(
                "The email address cannot be changed here.",
                {"email": ["The email address is read-only."]},
            )
        fields = data.validated_data
        services.profile_update(
            user=request.user,
            name=fields.get("name"),
            avatar=fields.get("avatar") or None,
            remove_avatar="avatar" in fields and fields["avatar"] is None,
        )
        return Response(s.UserSerializer(request.user, context={"request": request}).data)

    patch = put


class PreferencesView(APIView):
    @extend_schema(responses={200: s.PreferencesSerializer}, tags=["user"])
    def get(self, request):
        return Response(s.PreferencesSerializer(services.preferences_get(user=request.user)).data)

    @extend_schema(
        request=s.PreferencesSerializer, responses={200: s.PreferencesSerializer}, tags=["user"]
    )
    def put(self, request):
        prefs = services.preferences_get(user=request.user)
        data = s.PreferencesSerializer(prefs, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        prefs = services.preferences_update(user=request.user, **data.validated_data)
        return Response(s.PreferencesSerializer(prefs).data)

    patch = put


class AccountView(APIView):
    @extend_schema(request=s.DeleteAccountSerializer, responses={204: None}, tags=["user"])
    def delete(self, request):
        data = s.DeleteAccountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.account_delete(
            user=request.user, password=data.validated_data["password"], request=request
        )
        if not isinstance(request.auth, AccessToken):
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecurityLogView(generics.ListAPIView):
    serializer_class = s.SecurityEventSerializer
    results_key = "logs"

    def get_queryset(self):
        return selectors.security_events(user=self.request.user)

    @extend_schema(tags=["security"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TokenListView(APIView):
    @extend_schema(responses={200: s.TokenSerializer(many=True)}, tags=["user"])
    def get(self, request):
        tokens = selectors.active_tokens(user=request.user, kind=AccessToken.Kind.PERSONAL)
        return Response(
            {"tokens": s.TokenSerializer(tokens, many=True, context={"request": request}).data}
        )

    @extend_schema(request=s.TokenCreateSerializer, responses={201: dict}, tags=["user"])
    def post(self, request):
        data = validated(s.TokenCreateSerializer, request)
        issued = services.personal_token_create(
            user=request.user,
            name=data["name"],
            expires_in_days=data.get("expires_in_days"),
            request=request,
        )
        body = s.TokenSerializer(issued.token, context={"request": request}).data
        body["token"] = issued.access  # shown this once only
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["user"])
    def delete(self, request, pk):
        try:
            token = selectors.token_get(user=request.user, pk=pk)
        except (AccessToken.DoesNotExist, ValidationError):
            raise ApiError(404, "TOKEN_NOT_FOUND", "No such token.") from None
        services.token_revoke(token=token, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(APIView):
    """Active sign-ins: browsers and API sessions/tokens, each revocable."""

    @extend_schema(responses={200: dict}, tags=["user"])
    def get(self, request):
        ctx = {"request": request}
        browsers = s.BrowserSessionSerializer(
            selectors.browser_sessions(user=request.user), many=True, context=ctx
        ).data
        tokens = s.TokenSerializer(
            selectors.active_tokens(user=request.user), many=True, context=ctx
        ).data
        return Response({"sessions": list(browsers) + list(tokens)})


class SessionDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["user"])
    def delete(self, request, pk):
        try:
            session = selectors.browser_session_get(user=request.user, pk=pk)
        except BrowserSession.DoesNotExist:
            session = None
        if session is not None:
            services.browser_session_revoke(session=session, request=request)
            return Response(status=status.HTTP_204_NO_CONTENT)
        try:
            token = selectors.token_get(user=request.user, pk=pk)
        except AccessToken.DoesNotExist:
            raise ApiError(404, "SESSION_NOT_FOUND", "No such session.") from None
        services.token_revoke(token=token, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
