"""Team pages: list and create, switch, members and invitations, settings, audit log.

Every view asks teams.permissions; the writes are in teams.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from billing.limits import plan_allows
from controlpanel.forms import act_and_report
from teams import forms, selectors, services
from teams.models import Invitation, Membership, Team
from teams.permissions import (
    AUDIT_VIEW,
    MEMBER_MANAGE,
    TEAM_DELETE,
    TEAM_SETTINGS,
    TEAM_TRANSFER,
    VIEW,
    authorize,
    can,
)


def _team(request, pk, action: str = VIEW) -> Team:
    try:
        team = selectors.team_get(user=request.user, pk=pk)
    except Team.DoesNotExist:
        raise Http404("No such team.") from None
    authorize(request.user, action, team)
    return team


def _back(request, default: str):
    target = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return redirect(target)


@login_required
def team_list(request):
    form = forms.TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(
                owner=request.user, name=form.cleaned_data["name"], request=request
            )
        except ValidationError as exc:
            form.add_error("name", exc.messages)
        else:
            services.team_switch(user=request.user, team=team)
            messages.success(request, f"Team “{team.name}” created. Invite people next.")
            return redirect("teams:detail", pk=team.pk)
    memberships = Membership.objects.filter(user=request.user).select_related("team")
    context = {"memberships": memberships.order_by("-team__personal", "team__name"), "form": form}
    return render(request, "teams/list.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def team_switch(request):
    try:
        team = selectors.team_get(user=request.user, pk=request.POST.get("team"))
    except (Team.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such team.") from None
    services.team_switch(user=request.user, team=team)
    messages.success(request, f"You are working in {team.name}.")
    return _back(request, "/dashboard/")


@login_required
def team_detail(request, pk):
    team = _team(request, pk)
    context = {
        "team": team,
        "members": selectors.member_list(team=team),
        "invitations": selectors.invitation_list(team=team),
        "can_manage": can(request.user, MEMBER_MANAGE, team),
        "can_settings": can(request.user, TEAM_SETTINGS, team),
        "can_transfer": can(request.user, TEAM_TRANSFER, team),
        "can_delete": can(request.user, TEAM_DELETE, team),
        "can_audit": can(request.user, AUDIT_VIEW, team),
        "invite_form": forms.InviteForm(),
        "settings_form": forms.TeamSettingsForm(
            initial={"name": team.name, "require_two_factor": team.require_two_factor}
        ),
        "role_choices": forms.INVITE_ROLES,
        "allowance": plan_allows(team, "members", adding=0),
    }
    return render(request, "teams/detail.html", context)


@login_required
@require_POST
def team_settings(request, pk):
    team = _team(request, pk, TEAM_SETTINGS)
    act_and_report(
        request,
        lambda data: services.team_update(team=team, actor=request.user, request=request, **data),
        "Team settings saved.",
        form=forms.TeamSettingsForm(request.POST),
        invalid="Give the team a name.",
    )
    return redirect("teams:detail", pk=team.pk)


@login_required
@require_POST
def invitation_create(request, pk):
    team = _team(request, pk, MEMBER_MANAGE)
    act_and_report(
        request,
        lambda data: services.invitation_create(
            team=team, actor=request.user, request=request, **data
        ),
        lambda invitation: f"Invitation sent to {invitation.email}.",
        form=forms.InviteForm(request.POST),
        invalid="Enter an email address and a role.",
    )
    return redirect("teams:detail", pk=team.pk)


def _invitation(team, invitation_pk) -> Invitation:
    return get_object_or_404(Invitation, team=team, pk=invitation_pk)


@login_required
@require_POST
def invitation_resend(request, pk, invitation_pk):
    team = _team(request, pk, MEMBER_MANAGE)
    invitation = _invitation(team, invitation_pk)
    act_and_report(
        request,
        lambda: services.invitation_resend(
            invitation=invitation, actor=request.user, request=request
        ),
        f"Invitation sent again to {invitation.email}.",
    )
    return redirect("teams:detail", pk=team.pk)


@login_required
@require_POST
def invitation_revoke(request, pk, invitation_pk):
    team = _team(request, pk, MEMBER_MANAGE)
    invitation = _invitation(team, invitation_pk)
    act_and_report(
        request,
        lambda: services.invitation_revoke(
            invitation=invitation, actor=request.user, request=request
        ),
        "Invitation withdrawn; its link no longer works.",
    )
    return redirect("teams:detail", pk=team.pk)


def _membership(team, user_pk) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "team"), team=team, user_id=user_pk
    )


@login_required
@require_POST
def member_role(request, pk, user_pk):
    team = _team(request, pk, MEMBER_MANAGE)
    membership = _membership(team, user_pk)
    act_and_report(
        request,
        lambda data: services.member_role_change(
            membership=membership, role=data["role"], actor=request.user, request=request
        ),
        lambda changed: f"{changed.user} is now {changed.get_role_display()}.",
        form=forms.RoleForm(request.POST),
    )
    return redirect("teams:detail", pk=team.pk)


@login_required
@require_POST
def member_remove(request, pk, user_pk):
    team = _team(request, pk, MEMBER_MANAGE)
    membership = _membership(team, user_pk)
    act_and_report(
        request,
        lambda: services.member_remove(membership=membership, actor=request.user, request=request),
        f"{membership.user} was removed from {team.name}.",
    )
    return redirect("teams:detail", pk=team.pk)


@login_required
@require_POST
def team_leave(request, pk):
    team = _team(request, pk)
    if act_and_report(
        request,
        lambda: services.member_leave(team=team, user=request.user, request=request),
        f"You left {team.name}.",
    ):
        return redirect("teams:list")
    return redirect("teams:detail", pk=team.pk)


@login_required
@require_POST
def team_transfer(request, pk):
    team = _team(request, pk, TEAM_TRANSFER)

    def transfer(data):
        membership = _membership(team, data["user"])
        services.team_transfer(
            team=team, to_user=membership.user, actor=request.user, request=request
        )
        return membership.user

    act_and_report(
        request,
        transfer,
        lambda owner: f"{owner} now owns {team.name}; you are an admin.",
        form=forms.TransferForm(request.POST),
    )
    return redirect("teams:detail", pk=team.pk)


@login_required
@require_POST
def team_delete(request, pk):
    team = _team(request, pk, TEAM_DELETE)
    if act_and_report(
        request,
        lambda: services.team_delete(
            team=team,
            actor=request.user,
            confirm_name=request.POST.get("confirm", ""),
            request=request,
        ),
        f"Team “{team.name}” and everything it owned were deleted.",
    ):
        return redirect("teams:list")
    return redirect("teams:detail", pk=team.pk)


@login_required
def audit_log(request, pk):
    team = _team(request, pk, AUDIT_VIEW)
    action = request.GET.get("action", "").strip()[:60]
    actor = request.GET.get("actor", "").strip()
    object_type = request.GET.get("object", "").strip()[:40]
    members = selectors.member_list(team=team)
    if actor and not any(str(m.user_id) == actor for m in members):
        actor = ""
    events = selectors.audit_list(team=team, action=action, actor=actor, object_type=object_type)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {
        "team": team,
        "page": page,
        "members": members,
        "filters": {"action": action, "actor": actor, "object": object_type},
        "object_types": selectors.audit_object_types(team=team),
    }
    return render(request, "teams/audit.html", context)


@login_required
def invitation(request, key):
    """The emailed link: the invited person accepts or declines."""
    found = get_object_or_404(Invitation.objects.select_related("team", "invited_by"), key=key)
    if request.method == "POST":
        accept = request.POST.get("answer") == "accept"
        answer = services.invitation_accept if accept else services.invitation_decline
        said = "Welcome to {}." if accept else "You declined to join {}."
        if act_and_report(
            request,
            lambda: answer(invitation=found, user=request.user, request=request),
            said.format(found.team.name),
        ):
            return redirect("dashboard" if accept else "teams:list")
    mismatch = request.user.email.lower() != found.email.lower()
    context = {"invitation": found, "mismatch": mismatch}
    return render(request, "teams/invitation.html", context)
