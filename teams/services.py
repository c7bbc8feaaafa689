"""Every change to teams goes through here: pages, API, signals and admin.

Membership rules: a team always has an owner; owners are changed only by transferring
ownership; admins manage members below owner; a personal team has exactly its person.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from billing.limits import plan_enforce
from teams.audit import audit_record
from teams.models import INVITATION_LIFETIME, Invitation, Membership, Role, Team
from teams.permissions import forget_roles


def personal_team_name(user) -> str:
    return f"{(user.name or user.email.split('@')[0]).strip()[:80]}'s team"


def team_personal_create(*, user) -> Team:
    """The team made for one person at sign-up; they own it and act in it by default."""
    with transaction.atomic():
        team = Team.objects.create(name=personal_team_name(user), personal=True)
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        get_user_model().objects.filter(pk=user.pk, current_team__isnull=True).update(
            current_team=team
        )
        user.current_team = team
    return team


def personal_team(user) -> Team:
    """``user``'s personal team (made now if an old account has none)."""
    team = Team.objects.filter(personal=True, memberships__user=user).first()
    return team or team_personal_create(user=user)


def acting_team(user) -> Team:
    """The team ``user`` acts in when nothing else says: their current team while they are
    still a member of it, else their personal team."""
    if (
        user.current_team_id
        and Membership.objects.filter(user=user, team_id=user.current_team_id).exists()
    ):
        return user.current_team
    return personal_team(user)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the team a name."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Keep the name under 100 characters."]})
    return name


def team_create(*, owner, name: str, request=None) -> Team:
    """A new shared team with ``owner`` as its owner; they switch to it."""
    name = _clean_name(name)
    with transaction.atomic():
        team = Team.objects.create(name=name)
        Membership.objects.create(team=team, user=owner, role=Role.OWNER)
        audit_record(team=team, actor=owner, action="team.create", obj=team, request=request)
    forget_roles(owner)
    return team


def team_switch(*, user, team: Team) -> None:
    """Make ``team`` the one ``user`` acts in (pages and the seeds' API endpoints)."""
    if not Membership.objects.filter(user=user, team=team).exists():
        raise ValidationError("You are not a member of that team.")
    get_user_model().objects.filter(pk=user.pk).update(current_team=team)
    user.current_team = team


def team_update(
    *, team: Team, actor, name: str | None = None, require_two_factor=None, request=None
) -> Team:
    """Rename the team or change whether its members need two-factor sign-in."""
    changes = {}
    if name is not None and name.strip() != team.name:
        changes["name"] = [team.name, _clean_name(name)]
        team.name = changes["name"][1]
    if require_two_factor is not None and bool(require_two_factor) != team.require_two_factor:
        changes["require_two_factor"] = [team.require_two_factor, bool(require_two_factor)]
        team.require_two_factor = bool(require_two_factor)
    if changes:
        team.save()
        audit_record(
            team=team,
            actor=actor,
            action="team.settings",
            obj=team,
            request=request,
            details=changes,
        )
    return team


# --- members --------------------------------------------------------------------------------


def _owner_count(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).count()


def _actor_role(team: Team, actor) -> str | None:
    return Membership.objects.filter(team=team, user=actor).values_list("role", flat=True).first()


def member_role_change(*, membership: Membership, role: str, actor, request=None) -> Membership:
    """Give a member another role. Owners are made and unmade only by a transfer."""
    if role not in Role.values:
        raise ValidationError({"role": ["Choose owner, admin, developer or viewer."]})
    if membership.team.personal:
        raise ValidationError("A personal team has only its person.")
    if role == Role.OWNER or membership.role == Role.OWNER:
        raise ValidationError("Ownership changes hands by transferring the team.")
    before = membership.role
    if before != role:
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            team=membership.team,
            actor=actor,
            action="member.role",
            obj=membership.user,
            request=request,
            details={"from": before, "to": role},
        )
    forget_roles(membership.user)
    return membership


def member_remove(*, membership: Membership, actor, request=None) -> None:
    """Remove a member (not an owner: ownership is transferred first)."""
    if membership.role == Role.OWNER:
        raise ValidationError("An owner cannot be removed; transfer the team first.")
    _leave(membership)
    audit_record(
        team=membership.team,
        actor=actor,
        action="member.remove",
        obj=membership.user,
        request=request,
    )


def member_leave(*, team: Team, user, request=None) -> None:
    """``user`` leaves ``team``. The last owner cannot leave; personal teams cannot be left."""
    if team.personal:
        raise ValidationError("You cannot leave your personal team.")
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise ValidationError("You are not a member of this team.")
    if membership.role == Role.OWNER and _owner_count(team) == 1:
        raise ValidationError("Transfer the team to another member before you leave it.")
    _leave(membership)
    audit_record(team=team, actor=user, action="member.leave", obj=user, request=request)


def _leave(membership: Membership) -> None:
    user = membership.user
    with transaction.atomic():
        membership.delete()
        if user.current_team_id == membership.team_id:
            get_user_model().objects.filter(pk=user.pk).update(current_team=personal_team(user))
    forget_roles(user)


def team_transfer(*, team: Team, to_user, actor, request=None) -> None:
    """Make ``to_user`` (a member) the owner; the previous owner stays as an admin."""
    if team.personal:
        raise ValidationError("A personal team cannot be transferred.")
    target = Membership.objects.filter(team=team, user=to_user).first()
    if target is None:
        raise ValidationError({"user": ["Transfer to a member of the team."]})
    if to_user.pk == actor.pk:
        raise ValidationError({"user": ["You already own this team."]})
    with transaction.atomic():
        Membership.objects.filter(team=team, user=to_user).update(role=Role.OWNER)
        Membership.objects.filter(team=team, user=actor, role=Role.OWNER).update(role=Role.ADMIN)
        audit_record(team=team, actor=actor, action="team.transfer", obj=to_user, request=request)
    forget_roles(actor)
    forget_roles(to_user)


def team_delete(*, team: Team, actor, confirm_name: str, request=None) -> None:
    """Delete a shared team and everything it owns, after its name is typed to confirm.

    Its sites go the way a deleted site goes (working files removed after commit)."""
    from hosting.services import site_delete  # hosting imports teams; deletion reaches back

    if team.personal:
        raise ValidationError("Your personal team goes only with your account.")
    if (confirm_name or "").strip() != team.name:
        raise ValidationError({"confirm": ["Type the team's name exactly to delete it."]})
    audit_record(team=team, actor=actor, action="team.delete", obj=team, request=request)
    members = list(Membership.objects.filter(team=team).select_related("user"))
    with transaction.atomic():
        for site in team.sites.all():
            site_delete(site=site)
        for membership in members:
            user = membership.user
            if user.current_team_id == team.pk:
                get_user_model().objects.filter(pk=user.pk).update(current_team=personal_team(user))
        team.delete()
    for membership in members:
        forget_roles(membership.user)


# --- invitations -----------------------------------------------------------------------------


def _invitation_url(invitation: Invitation) -> str:
    return settings.PANEL_URL.rstrip("/") + reverse("teams:invitation", args=[invitation.key])


def _send_invitation(invitation: Invitation) -> None:
    context = {
        "invitation": invitation,
        "url": _invitation_url(invitation),
        "days": INVITATION_LIFETIME.days,
    }
    send_mail(
        subject=f"Join {invitation.team.name} on Berth",
        message=render_to_string("teams/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_create(*, team: Team, email: str, role: str, actor, request=None) -> Invitation:
    """Invite ``email`` to join ``team`` as ``role`` (not owner) and email them the link."""
    from accounts.models import User  # accounts imports teams for tokens

    email = User.objects.normalize_email(email or "").strip().lower()
    if team.personal:
        raise ValidationError("Invite people to a shared team; create one first.")
    if role not in Role.values or role == Role.OWNER:
        raise ValidationError({"role": ["Invite as admin, developer or viewer."]})
    invitation = Invitation(team=team, email=email, role=role, invited_by=actor)
    invitation.full_clean(exclude=["key", "invited_by"])
    if Membership.objects.filter(team=team, user__email__iexact=email).exists():
        raise ValidationError({"email": ["This person is already a member."]})
    if Invitation.objects.filter(team=team, email=email, status=Invitation.Status.PENDING).exists():
        raise ValidationError(
            {"email": ["This address is already invited; resend the invitation."]}
        )
    with transaction.atomic():
        plan_enforce(team, "members")
        invitation.save()
    _send_invitation(invitation)
    audit_record(
        team=team,
        actor=actor,
        action="invitation.create",
        obj=invitation,
        request=request,
        details={"email": email, "role": role},
    )
    return invitation


def invitation_resend(*, invitation: Invitation, actor, request=None) -> Invitation:
    """Send the invitation again with a fresh link and a new expiry; the old link stops."""
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError("Only a pending invitation can be sent again.")
    now = timezone.now()
    invitation.key = Invitation._meta.get_field("key").default()
    invitation.sent_at = now
    invitation.expires_at = now + INVITATION_LIFETIME
    invitation.save(update_fields=["key", "sent_at", "expires_at"])
    _send_invitation(invitation)
    audit_record(
        team=invitation.team,
        actor=actor,
        action="invitation.resend",
        obj=invitation,
        request=request,
    )
    return invitation


def invitation_revoke(*, invitation: Invitation, actor, request=None) -> None:
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError("This invitation was already answered.")
    invitation.status = Invitation.Status.REVOKED
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    audit_record(
        team=invitation.team,
        actor=actor,
        action="invitation.revoke",
        obj=invitation,
        request=request,
    )


def _open_invitation(invitation: Invitation, user) -> None:
    if invitation.status != Invitation.Status.PENDING:
        raise ValidationError("This invitation was already answered or withdrawn.")
    if invitation.is_expired:
        raise ValidationError("This invitation has expired; ask for a new one.")
    if user.email.lower() != invitation.email.lower():
        raise ValidationError(
            f"This invitation was sent to {invitation.email}; sign in with that address."
        )


def invitation_accept(*, invitation: Invitation, user, request=None) -> Membership:
    """``user`` (signed in with the invited address) joins the team and switches to it."""
    _open_invitation(invitation, user)
    with transaction.atomic():
        # The invitation already holds its seat; only a suspended team refuses here.
        plan_enforce(invitation.team, "members", adding=0)
        membership, _ = Membership.objects.get_or_create(
            team=invitation.team, user=user, defaults={"role": invitation.role}
        )
        invitation.status = Invitation.Status.ACCEPTED
        invitation.answered_at = timezone.now()
        invitation.save(update_fields=["status", "answered_at"])
        team_switch(user=user, team=invitation.team)
        audit_record(
            team=invitation.team,
            actor=user,
            action="member.join",
            obj=user,
            request=request,
            details={"role": membership.role},
        )
    forget_roles(user)
    return membership


def invitation_decline(*, invitation: Invitation, user, request=None) -> None:
    _open_invitation(invitation, user)
    invitation.status = Invitation.Status.DECLINED
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    audit_record(
        team=invitation.team,
        actor=user,
        action="invitation.decline",
        obj=invitation,
        request=request,
    )
