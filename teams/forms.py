"""Forms of the team pages."""

from __future__ import annotations

from django import forms

from teams.models import Role

INVITE_ROLES = [(r.value, r.label) for r in Role if r != Role.OWNER]


class TeamCreateForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=100)


class TeamSettingsForm(forms.Form):
    name = forms.CharField(label="Team name", max_length=100)
    require_two_factor = forms.BooleanField(
        label="Members must use two-factor sign-in", required=False
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(label="Role", choices=INVITE_ROLES, initial=Role.DEVELOPER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=INVITE_ROLES)


class TransferForm(forms.Form):
    user = forms.UUIDField(label="New owner")
