"""JSON shapes of teams, members, invitations and the audit log (camelCase, like the API
clients), and the input each endpoint accepts."""

from __future__ import annotations

from rest_framework import serializers

from controlpanel.api.schema import IsoDateTimeField, listing, paginated
from teams.models import Invitation, Role

INVITE_ROLES = [role for role in Role.values if role != Role.OWNER]


# --- input -----------------------------------------------------------------------------------


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class TeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    requireTwoFactor = serializers.BooleanField(source="require_two_factor", required=False)


class TeamDeleteSerializer(serializers.Serializer):
    confirm = serializers.CharField(
        max_length=100, help_text="The team's name, typed again to confirm."
    )


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=INVITE_ROLES)


class TransferSerializer(serializers.Serializer):
    userId = serializers.UUIDField(source="user", help_text="The member who becomes the owner.")


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=INVITE_ROLES, default=Role.DEVELOPER)


# --- answers ---------------------------------------------------------------------------------


class TeamSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    personal = serializers.BooleanField(help_text="Made at sign-up for one person.")
    requireTwoFactor = serializers.BooleanField(source="require_two_factor")
    role = serializers.ChoiceField(
        source="my_role", choices=Role.choices, help_text="The caller's role in the team."
    )
    memberCount = serializers.IntegerField(source="member_count")
    current = serializers.SerializerMethodField(
        help_text="Whether the seeds' endpoints act in this team for the caller."
    )
    createdAt = IsoDateTimeField(source="created_at")

    def get_current(self, team) -> bool:
        request = self.context.get("request")
        return request is not None and request.user.current_team_id == team.pk


class MemberSerializer(serializers.Serializer):
    userId = serializers.UUIDField(source="user_id")
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.name")
    role = serializers.ChoiceField(choices=Role.choices)
    joinedAt = IsoDateTimeField(source="created_at")


class InvitationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.ChoiceField(choices=Invitation.Status.choices)
    expired = serializers.BooleanField(source="is_expired")
    invitedBy = serializers.EmailField(source="invited_by.email", default=None, allow_null=True)
    sentAt = IsoDateTimeField(source="sent_at")
    expiresAt = IsoDateTimeField(source="expires_at")


class InvitedTeamSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ReceivedInvitationSerializer(serializers.Serializer):
    """An invitation as the emailed link shows it to the person invited."""

    team = InvitedTeamSerializer()
    email = serializers.EmailField(help_text="The address invited; accept while signed in as it.")
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.ChoiceField(choices=Invitation.Status.choices)
    expired = serializers.BooleanField(source="is_expired")
    invitedBy = serializers.EmailField(source="invited_by.email", default=None, allow_null=True)
    expiresAt = IsoDateTimeField(source="expires_at")


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField(help_text="e.g. member.role, team.transfer, post api-site")
    actorId = serializers.UUIDField(source="actor_id", allow_null=True)
    actor = serializers.CharField(source="actor_email", help_text="Kept after the person goes.")
    objectType = serializers.CharField(source="object_type")
    objectId = serializers.CharField(source="object_id")
    object = serializers.CharField(source="object_repr")
    ipAddress = serializers.IPAddressField(source="ip_address", allow_null=True)
    userAgent = serializers.CharField(source="user_agent")
    details = serializers.DictField()
    createdAt = IsoDateTimeField(source="created_at")


TeamPageSerializer = paginated("TeamPage", "teams", TeamSerializer)
MemberPageSerializer = paginated("MemberPage", "members", MemberSerializer)
InvitationListSerializer = listing("InvitationList", "invitations", InvitationSerializer)
AuditPageSerializer = paginated("AuditPage", "events", AuditEventSerializer)
