"""Auth, profile, preferences, tokens, sessions and security log over the REST API."""

from __future__ import annotations

from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api import serializers
from accounts.models import AccessToken, BrowserSession
from accounts.reauth import check_again, recently_checked
from accounts.two_factor import CHALLENGE_SECONDS, SecondFactorRequired
from controlpanel.api.exceptions import ApiError, ValidationFailed
from controlpanel.api.schema import MessageSerializer, error
from controlpanel.api.throttling import AuthRateThrottle
from controlpanel.api.views import validated
from teams import selectors as team_selectors
from teams.models import Team

BAD_CREDENTIALS = error("UNAUTHORIZED: the email and password do not match an account.")
THROTTLED = error(
    "RATE_LIMIT_EXCEEDED: too many attempts from this address, or failed sign-ins for this account."
)


class AuthView(APIView):
    """Public auth endpoints: no session (so no CSRF), 5 requests a minute per IP."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]


class SignupView(AuthView):
    @extend_schema(
        request=serializers.SignupSerializer,
        responses={201: serializers.TokenPairSerializer},
        tags=["auth"],
    )
    def post(self, request):
        data = validated(serializers.SignupSerializer, request)
        name = data.get("name") or data["email"].split("@")[0]
        with transaction.atomic():
            user = services.user_create(
                email=data["email"], password=data["password"], name=name, request=request
            )
            issued = services.token_issue(user=user, request=request)
        body = serializers.TokenPairSerializer(issued, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class LoginView(AuthView):
    """``POST /api/auth/login`` (JSON) and ``/api/v1/auth/login`` (also OAuth2 form fields)."""

    answer = serializers.TokenPairSerializer

    @extend_schema(
        request=serializers.LoginSerializer,
        responses={200: serializers.TokenPairSerializer, 401: BAD_CREDENTIALS, 429: THROTTLED},
        tags=["auth"],
    )
    def post(self, request):
        data = validated(serializers.LoginSerializer, request)
        try:
            if data.get("challenge"):
                issued = services.api_login_code(
                    challenge=data["challenge"], code=data["code"], request=request
                )
                if issued is None:
                    raise ApiError(401, "INVALID_CODE", "The code is wrong or the sign-in expired.")
            else:
                issued = services.api_login(
                    email=data["email"], password=data["password"], request=request
                )
        except services.SignInThrottled as exc:
            raise ApiError(429, "RATE_LIMIT_EXCEEDED", str(exc)) from exc
        except SecondFactorRequired as required:
            raise ApiError(
                401,
                "TWO_FACTOR_REQUIRED",
                "Enter the code from your authenticator app (or a recovery code).",
                {"challenge": required.challenge, "expiresIn": CHALLENGE_SECONDS},
            ) from None
        if issued is None:
            raise ApiError(401, "UNAUTHORIZED", "Invalid email or password.")
        return Response(self.answer(issued, context={"request": request}).data)


class OAuth2LoginView(LoginView):
    """The Copro client's ``/api/v1/auth/login``: also ``username`` form fields and snake_case
    tokens."""

    answer = serializers.OAuth2TokenPairSerializer

    @extend_schema(
        request=serializers.LoginSerializer,
        responses={
            200: serializers.OAuth2TokenPairSerializer,
            401: BAD_CREDENTIALS,
            429: THROTTLED,
        },
        tags=["auth"],
        operation_id="v1_auth_login",
    )
    def post(self, request):
        return super().post(request)


class RefreshView(AuthView):
    @extend_schema(
        request=serializers.RefreshSerializer,
        responses={
            200: serializers.TokenPairSerializer,
            401: error("UNAUTHORIZED: the refresh token is invalid, expired or revoked."),
        },
        tags=["auth"],
    )
    def post(self, request):
        data = validated(serializers.RefreshSerializer, request)
        issued = services.token_refresh(refresh=data["refresh"], request=request)
        if issued is None:
            raise ApiError(401, "UNAUTHORIZED", "The refresh token is invalid, expired or revoked.")
        return Response(serializers.TokenPairSerializer(issued, context={"request": request}).data)


class ForgotPasswordView(AuthView):
    @extend_schema(
        request=serializers.ForgotPasswordSerializer,
        responses={200: MessageSerializer},
        tags=["auth"],
    )
    def post(self, request):
        data = validated(serializers.ForgotPasswordSerializer, request)
        services.password_reset_request(email=data["email"], request=request._request)
        return Response({"message": "If an account uses that address, a reset link is on its way."})


class ResetPasswordView(AuthView):
    @extend_schema(
        request=serializers.ResetPasswordSerializer,
        responses={200: MessageSerializer},
        tags=["auth"],
    )
    def post(self, request):
        data = validated(serializers.ResetPasswordSerializer, request)
        services.password_reset_confirm(
            key=data["token"], password=data["password"], request=request
        )
        return Response({"message": "Your password has been changed. Sign in with it now."})


class LogoutView(APIView):
    @extend_schema(request=None, responses={200: MessageSerializer}, tags=["auth"])
    def post(self, request):
        if isinstance(request.auth, AccessToken):
            services.api_logout(token=request.auth, request=request)
        else:
            logout(request._request)
        return Response({"message": "Signed out."})


class SessionView(APIView):
    @extend_schema(responses={200: serializers.CurrentSessionSerializer}, tags=["auth"])
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
        answer = {"user": request.user, "session": session, "authenticated": True}
        return Response(
            serializers.CurrentSessionSerializer(answer, context={"request": request}).data
        )


class ProfileView(APIView):
    @extend_schema(responses={200: serializers.UserSerializer}, tags=["user"])
    def get(self, request):
        return Response(serializers.UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        request=serializers.ProfileSerializer,
        responses={200: serializers.UserSerializer},
        tags=["user"],
    )
    def put(self, request):
        fields = validated(serializers.ProfileSerializer, request)
        if "email" in request.data and request.data["email"] != request.user.email:
            raise ValidationFailed(
                "The email address changes with POST /api/user/email (a link confirms it).",
                {"email": ["Change it with POST /api/user/email."]},
            )
        services.profile_update(
            user=request.user,
            name=fields.get("name"),
            avatar=fields.get("avatar") or None,
            remove_avatar="avatar" in fields and fields["avatar"] is None,
        )
        return Response(serializers.UserSerializer(request.user, context={"request": request}).data)

    patch = put


class PreferencesView(APIView):
    @extend_schema(responses={200: serializers.PreferencesSerializer}, tags=["user"])
    def get(self, request):
        prefs = services.preferences_get(user=request.user)
        return Response(serializers.PreferencesSerializer(prefs).data)

    @extend_schema(
        request=serializers.PreferencesSerializer,
        responses={200: serializers.PreferencesSerializer},
        tags=["user"],
    )
    def put(self, request):
        prefs = services.preferences_get(user=request.user)
        data = validated(serializers.PreferencesSerializer, request, instance=prefs, partial=True)
        prefs = services.preferences_update(user=request.user, **data)
        return Response(serializers.PreferencesSerializer(prefs).data)

    patch = put


class AccountView(APIView):
    @extend_schema(
        request=serializers.DeleteAccountSerializer,
        responses={
            204: None,
            422: error("VALIDATION_ERROR: the password is missing or not correct."),
        },
        description='Send the account\'s password as a JSON body: `{"password": "…"}`.',
        tags=["user"],
    )
    def delete(self, request):
        data = validated(serializers.DeleteAccountSerializer, request)
        services.account_delete(user=request.user, password=data["password"], request=request)
        if not isinstance(request.auth, AccessToken):
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SecurityLogView(generics.ListAPIView):
    serializer_class = serializers.SecurityEventSerializer
    results_key = "logs"

    def get_queryset(self):
        return selectors.security_events(user=self.request.user)

    @extend_schema(responses={200: serializers.SecurityLogPageSerializer}, tags=["security"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


REAUTHENTICATION_REQUIRED = error(
    "REAUTHENTICATION_REQUIRED: the sign-in is older than 5 minutes; send `password` (or a "
    "two-factor `code`) with the request."
)


def _checked_again(request, data: dict) -> None:
    """Security changes need a recent sign-in, or the password (or a code) with the request."""
    if not recently_checked(request) and not check_again(
        user=request.user, password=data.get("password", ""), code=data.get("code", "")
    ):
        raise ApiError(
            401,
            "REAUTHENTICATION_REQUIRED",
            "Confirm it is you: send your password (or a two-factor code) with the request.",
        )


class EmailChangeView(APIView):
    """``POST /api/user/email``: a confirmation link goes to the new address; the address
    changes when it is followed (``POST /api/user/email/confirm``, or the link's page)."""

    @extend_schema(
        request=serializers.EmailChangeSerializer,
        responses={202: serializers.EmailChangeSentSerializer, 401: REAUTHENTICATION_REQUIRED},
        tags=["user"],
    )
    def post(self, request):
        data = validated(serializers.EmailChangeSerializer, request)
        _checked_again(request, data)
        services.email_change_request(user=request.user, new_email=data["email"])
        sent = {
            "message": f"We sent a link to {data['email']}; follow it to switch addresses.",
            "email": data["email"],
            "expiresIn": services.EMAIL_CHANGE_SECONDS,
        }
        body = serializers.EmailChangeSentSerializer(sent).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class EmailConfirmView(APIView):
    @extend_schema(
        request=serializers.EmailConfirmSerializer,
        responses={
            200: serializers.UserSerializer,
            422: error("VALIDATION_ERROR: the link is invalid, expired or for another account."),
        },
        tags=["user"],
    )
    def post(self, request):
        data = validated(serializers.EmailConfirmSerializer, request)
        user = services.email_change_confirm(user=request.user, key=data["key"], request=request)
        return Response(serializers.UserSerializer(user, context={"request": request}).data)


class TokenListView(APIView):
    @extend_schema(responses={200: serializers.TokenListSerializer}, tags=["user"])
    def get(self, request):
        tokens = selectors.active_tokens(user=request.user, kind=AccessToken.Kind.PERSONAL)
        return Response(
            serializers.TokenListSerializer({"tokens": tokens}, context={"request": request}).data
        )

    @extend_schema(
        request=serializers.TokenCreateSerializer,
        responses={201: serializers.TokenCreatedSerializer, 401: REAUTHENTICATION_REQUIRED},
        tags=["user"],
    )
    def post(self, request):
        data = validated(serializers.TokenCreateSerializer, request)
        _checked_again(request, data)
        team = None
        if data.get("team"):
            try:
                team = team_selectors.team_get(user=request.user, pk=data["team"])
            except Team.DoesNotExist:
                raise ApiError(404, "TEAM_NOT_FOUND", "No such team.") from None
        issued = services.personal_token_create(
            user=request.user,
            name=data["name"],
            expires_in_days=data.get("expires_in_days"),
            team=team,
            scopes=data.get("scopes", ()),
            request=request,
        )
        context = {"request": request, "access": issued.access}
        body = serializers.TokenCreatedSerializer(issued.token, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(
        responses={204: None, 404: error("TOKEN_NOT_FOUND: no such token of yours.")},
        tags=["user"],
    )
    def delete(self, request, pk):
        try:
            token = selectors.token_get(user=request.user, pk=pk)
        except (AccessToken.DoesNotExist, ValidationError):
            raise ApiError(404, "TOKEN_NOT_FOUND", "No such token.") from None
        services.token_revoke(token=token, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SessionListView(APIView):
    """Active sign-ins: browsers and API sessions/tokens, each revocable."""

    @extend_schema(responses={200: serializers.SessionListSerializer}, tags=["user"])
    def get(self, request):
        signed_in = {
            "browsers": selectors.browser_sessions(user=request.user),
            "tokens": selectors.active_tokens(user=request.user),
        }
        return Response(
            serializers.SessionListSerializer(signed_in, context={"request": request}).data
        )


class SessionDetailView(APIView):
    @extend_schema(
        responses={204: None, 404: error("SESSION_NOT_FOUND: no such session of yours.")},
        tags=["user"],
    )
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
