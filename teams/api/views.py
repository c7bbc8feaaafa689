"""Teams over the REST API: teams, members and roles, invitations, leaving, transferring,
deleting, switching, and the audit log.

Every view asks ``teams.permissions`` (a non-member gets 404, a member whose role does not
allow the call 403 FORBIDDEN) and writes through ``teams.services``, which also record the
audit trail.
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from controlpanel.api.exceptions import ApiError, ValidationFailed
from controlpanel.api.pagination import PagePagination
from controlpanel.api.schema import error
from controlpanel.api.views import validated
from teams import selectors, services
from teams.api import serializers
from teams.models import Invitation, Membership, Team
from teams.permissions import (
    AUDIT_VIEW,
    MEMBER_MANAGE,
    TEAM_DELETE,
    TEAM_SETTINGS,
    TEAM_TRANSFER,
    VIEW,
    authorize,
    authorize_personal,
)

TEAM_NOT_FOUND = error("TEAM_NOT_FOUND: no such team of yours.")
MEMBER_NOT_FOUND = error("TEAM_NOT_FOUND, or MEMBER_NOT_FOUND: no such team or member.")
INVITATION_NOT_FOUND = error("TEAM_NOT_FOUND, or INVITATION_NOT_FOUND: no such invitation.")
LINK_NOT_FOUND = error("INVITATION_NOT_FOUND: no invitation has this key.")
PAGE = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("limit", int, description="Items per page (at most 100)."),
]


def _team(request, pk, action: str = VIEW) -> Team:
    """A team of the caller's (404 otherwise) whose role allows ``action`` (403 otherwise)."""
    try:
        team = selectors.team_get(user=request.user, pk=pk)
    except Team.DoesNotExist:
        raise ApiError(404, "TEAM_NOT_FOUND", "No such team.") from None
    authorize(request.user, action, team)
    return team


def _team_answer(request, team: Team, status_code: int = 200) -> Response:
    team = selectors.team_get(user=request.user, pk=team.pk)
    body = serializers.TeamSerializer(team, context={"request": request}).data
    return Response(body, status=status_code)


def _page(request, view, queryset, serializer_class, key: str) -> Response:
    paginator = PagePagination()
    view.results_key = key
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


class TeamListView(APIView):
    """``GET /api/teams`` (the caller's teams) and ``POST /api/teams`` (a new shared team)."""

    @extend_schema(
        parameters=PAGE,
        operation_id="teams_list",
        responses={200: serializers.TeamPageSerializer},
        tags=["teams"],
    )
    def get(self, request):
        teams = selectors.team_list(user=request.user)
        return _page(request, self, teams, serializers.TeamSerializer, "teams")

    @extend_schema(
        request=serializers.TeamCreateSerializer,
        responses={201: serializers.TeamSerializer},
        description="The caller owns the new team and acts in it from now on.",
        tags=["teams"],
    )
    def post(self, request):
        authorize_personal(request.user)
        data = validated(serializers.TeamCreateSerializer, request)
        team = services.team_create(owner=request.user, name=data["name"], request=request)
        services.team_switch(user=request.user, team=team)
        return _team_answer(request, team, status.HTTP_201_CREATED)


class TeamDetailView(APIView):
    @extend_schema(responses={200: serializers.TeamSerializer, 404: TEAM_NOT_FOUND}, tags=["teams"])
    def get(self, request, pk):
        return _team_answer(request, _team(request, pk))

    @extend_schema(
        request=serializers.TeamUpdateSerializer,
        responses={200: serializers.TeamSerializer, 404: TEAM_NOT_FOUND},
        description="Rename the team, or require two-factor sign-in of its members.",
        tags=["teams"],
    )
    def patch(self, request, pk):
        team = _team(request, pk, TEAM_SETTINGS)
        data = validated(serializers.TeamUpdateSerializer, request)
        services.team_update(team=team, actor=request.user, request=request, **data)
        return _team_answer(request, team)

    @extend_schema(
        request=serializers.TeamDeleteSerializer,
        responses={204: None, 404: TEAM_NOT_FOUND},
        description="Delete a shared team and everything it owns (its sites too). Send the "
        'team\'s name to confirm: `{"confirm": "Acme"}`. Owners only.',
        tags=["teams"],
    )
    def delete(self, request, pk):
        team = _team(request, pk, TEAM_DELETE)
        data = validated(serializers.TeamDeleteSerializer, request)
        services.team_delete(
            team=team, actor=request.user, confirm_name=data["confirm"], request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamSwitchView(APIView):
    @extend_schema(
        request=None,
        responses={200: serializers.TeamSerializer, 404: TEAM_NOT_FOUND},
        description="Act in this team: the endpoints without a team in their path (sites, "
        "deployments, domains) use it when no `team` parameter is given.",
        tags=["teams"],
    )
    def post(self, request, pk):
        team = _team(request, pk)
        services.team_switch(user=request.user, team=team)
        return _team_answer(request, team)


class TeamLeaveView(APIView):
    @extend_schema(
        request=None,
        responses={
            204: None,
            404: TEAM_NOT_FOUND,
            422: error("VALIDATION_ERROR: a personal team, or the only owner (transfer first)."),
        },
        tags=["teams"],
    )
    def post(self, request, pk):
        team = _team(request, pk)
        services.member_leave(team=team, user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamTransferView(APIView):
    @extend_schema(
        request=serializers.TransferSerializer,
        responses={200: serializers.TeamSerializer, 404: TEAM_NOT_FOUND},
        description="Make another member the owner; the caller stays on as an admin.",
        tags=["teams"],
    )
    def post(self, request, pk):
        team = _team(request, pk, TEAM_TRANSFER)
        data = validated(serializers.TransferSerializer, request)
        membership = _member(team, data["user"])
        services.team_transfer(
            team=team, to_user=membership.user, actor=request.user, request=request
        )
        return _team_answer(request, team)


# --- members ---------------------------------------------------------------------------------


def _member(team: Team, user_id) -> Membership:
    try:
        return selectors.member_get(team=team, user_id=user_id)
    except Membership.DoesNotExist:
        raise ApiError(404, "MEMBER_NOT_FOUND", "No such member of this team.") from None


class MemberListView(APIView):
    @extend_schema(
        parameters=PAGE,
        operation_id="teams_members_list",
        responses={200: serializers.MemberPageSerializer, 404: TEAM_NOT_FOUND},
        tags=["teams"],
    )
    def get(self, request, pk):
        members = selectors.member_list(team=_team(request, pk))
        return _page(request, self, members, serializers.MemberSerializer, "members")


class MemberDetailView(APIView):
    @extend_schema(
        request=serializers.RoleChangeSerializer,
        responses={200: serializers.MemberSerializer, 404: MEMBER_NOT_FOUND},
        description="Change a member's role (admin, developer or viewer; owners change by a "
        "transfer).",
        tags=["teams"],
    )
    def patch(self, request, pk, user_pk):
        team = _team(request, pk, MEMBER_MANAGE)
        membership = _member(team, user_pk)
        data = validated(serializers.RoleChangeSerializer, request)
        membership = services.member_role_change(
            membership=membership, role=data["role"], actor=request.user, request=request
        )
        return Response(serializers.MemberSerializer(membership).data)

    @extend_schema(
        responses={204: None, 404: MEMBER_NOT_FOUND},
        description="Remove a member (an owner is removed only after a transfer).",
        tags=["teams"],
    )
    def delete(self, request, pk, user_pk):
        team = _team(request, pk, MEMBER_MANAGE)
        services.member_remove(
            membership=_member(team, user_pk), actor=request.user, request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invitations -----------------------------------------------------------------------------


def _invitation(team: Team, invitation_pk) -> Invitation:
    try:
        return selectors.invitation_get(team=team, pk=invitation_pk)
    except Invitation.DoesNotExist:
        raise ApiError(404, "INVITATION_NOT_FOUND", "No such invitation.") from None


class InvitationListView(APIView):
    @extend_schema(
        operation_id="teams_invitations_list",
        responses={200: serializers.InvitationListSerializer, 404: TEAM_NOT_FOUND},
        description="The invitations still waiting for an answer.",
        tags=["teams"],
    )
    def get(self, request, pk):
        invitations = selectors.invitation_list(team=_team(request, pk))
        return Response(serializers.InvitationListSerializer({"invitations": invitations}).data)

    @extend_schema(
        request=serializers.InvitationCreateSerializer,
        responses={201: serializers.InvitationSerializer, 404: TEAM_NOT_FOUND},
        description="Email a link to join the team with a role; it works for 7 days.",
        tags=["teams"],
    )
    def post(self, request, pk):
        team = _team(request, pk, MEMBER_MANAGE)
        data = validated(serializers.InvitationCreateSerializer, request)
        invitation = services.invitation_create(
            team=team, email=data["email"], role=data["role"], actor=request.user, request=request
        )
        answer = serializers.InvitationSerializer(invitation).data
        return Response(answer, status=status.HTTP_201_CREATED)


class InvitationDetailView(APIView):
    @extend_schema(
        responses={204: None, 404: INVITATION_NOT_FOUND},
        description="Revoke a pending invitation: its link stops working.",
        tags=["teams"],
    )
    def delete(self, request, pk, invitation_pk):
        team = _team(request, pk, MEMBER_MANAGE)
        services.invitation_revoke(
            invitation=_invitation(team, invitation_pk), actor=request.user, request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendView(APIView):
    @extend_schema(
        request=None,
        responses={200: serializers.InvitationSerializer, 404: INVITATION_NOT_FOUND},
        description="Send the invitation again with a new link and expiry; the old link stops.",
        tags=["teams"],
    )
    def post(self, request, pk, invitation_pk):
        team = _team(request, pk, MEMBER_MANAGE)
        invitation = services.invitation_resend(
            invitation=_invitation(team, invitation_pk), actor=request.user, request=request
        )
        return Response(serializers.InvitationSerializer(invitation).data)


def _received(key: str) -> Invitation:
    try:
        return selectors.invitation_by_key(key=key)
    except Invitation.DoesNotExist:
        raise ApiError(404, "INVITATION_NOT_FOUND", "No invitation has this key.") from None


class ReceivedInvitationView(APIView):
    """The emailed link's key: read the invitation, accept it or decline it."""

    @extend_schema(
        responses={200: serializers.ReceivedInvitationSerializer, 404: LINK_NOT_FOUND},
        tags=["teams"],
    )
    def get(self, request, key):
        return Response(serializers.ReceivedInvitationSerializer(_received(key)).data)


class InvitationAcceptView(APIView):
    @extend_schema(
        request=None,
        responses={
            200: serializers.TeamSerializer,
            404: LINK_NOT_FOUND,
            422: error("VALIDATION_ERROR: answered, withdrawn, expired, or for another address."),
        },
        description="Join the team (signed in with the invited address); the caller acts in "
        "it from now on.",
        tags=["teams"],
    )
    def post(self, request, key):
        authorize_personal(request.user)
        invitation = _received(key)
        services.invitation_accept(invitation=invitation, user=request.user, request=request)
        return _team_answer(request, invitation.team)


class InvitationDeclineView(APIView):
    @extend_schema(
        request=None,
        responses={
            204: None,
            404: LINK_NOT_FOUND,
            422: error("VALIDATION_ERROR: answered, withdrawn, expired, or for another address."),
        },
        tags=["teams"],
    )
    def post(self, request, key):
        authorize_personal(request.user)
        services.invitation_decline(invitation=_received(key), user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the audit log ---------------------------------------------------------------------------


class AuditLogView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("action", str, description="Actions starting with this."),
            OpenApiParameter("actorId", str, description="Changes made by this member."),
            OpenApiParameter("objectType", str, description="site, deployment, domain, ..."),
            *PAGE,
        ],
        operation_id="teams_audit_list",
        responses={200: serializers.AuditPageSerializer, 404: TEAM_NOT_FOUND},
        description="Every change in the team, newest first (owners and admins).",
        tags=["teams"],
    )
    def get(self, request, pk):
        team = _team(request, pk, AUDIT_VIEW)
        params = request.query_params
        actor = params.get("actorId", "").strip()
        if actor:
            try:
                actor = uuid.UUID(actor)
            except ValueError:
                raise ValidationFailed(
                    "actorId: give the id of a person.", {"actorId": ["Not a valid id."]}
                ) from None
        events = selectors.audit_list(
            team=team,
            action=params.get("action", "").strip()[:60],
            actor=actor or None,
            object_type=params.get("objectType", "").strip()[:40],
        )
        return _page(request, self, events, serializers.AuditEventSerializer, "events")
