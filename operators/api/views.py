"""The operators' admin API (staff only): users, a user's sites, suspend and reinstate."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError
from controlpanel.api.pagination import PagePagination
from controlpanel.api.permissions import OperatorOnly
from controlpanel.api.schema import error
from operators import selectors, services
from operators.api import serializers

NOT_FOUND = error("USER_NOT_FOUND: no user with that id.")
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("limit", int, description="Items per page (at most 100)."),
]


def get_user(pk):
    try:
        return selectors.user_get(pk=pk)
    except (ValidationError, ValueError, get_user_model().DoesNotExist):
        raise ApiError(404, "USER_NOT_FOUND", f"User with ID '{pk}' not found") from None


class AdminUserListView(GenericAPIView):
    permission_classes = [OperatorOnly]
    pagination_class = PagePagination
    results_key = "users"

    @extend_schema(
        parameters=[serializers.AdminUserQuerySerializer, *PAGE_PARAMETERS],
        responses={200: serializers.AdminUserPageSerializer},
        tags=["admin"],
    )
    def get(self, request):
        query = serializers.AdminUserQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        users = selectors.user_list(
            search=query.validated_data.get("search", "").strip(),
            status=query.validated_data.get("status", ""),
        )
        page = self.paginate_queryset(users)
        return self.get_paginated_response(serializers.AdminUserSerializer(page, many=True).data)


class AdminUserSitesView(APIView):
    permission_classes = [OperatorOnly]

    @extend_schema(
        responses={200: serializers.AdminUserSitesSerializer, 404: NOT_FOUND}, tags=["admin"]
    )
    def get(self, request, pk):
        user = get_user(pk)
        sites = selectors.user_sites(user=user)
        return Response(serializers.AdminUserSitesSerializer({"sites": sites}).data)


class AdminUserActionView(APIView):
    permission_classes = [OperatorOnly]
    action_service = None

    @extend_schema(
        request=None,
        responses={
            200: serializers.AdminUserResponseSerializer,
            404: NOT_FOUND,
            422: error("VALIDATION_ERROR: an operator cannot suspend themselves."),
        },
        tags=["admin"],
    )
    def post(self, request, pk):
        user = get_user(pk)
        type(self).action_service(user=user, actor=request.user, request=request)
        return Response({"user": serializers.AdminUserSerializer(get_user(pk)).data})


class AdminUserSuspendView(AdminUserActionView):
    action_service = services.user_suspend


class AdminUserUnsuspendView(AdminUserActionView):
    action_service = services.user_unsuspend
