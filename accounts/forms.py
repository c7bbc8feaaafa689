"""Forms of the sign-up page and the settings tabs."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import Preferences


class SignupExtraForm(forms.Form):
    """allauth's sign-up form gains the display name (the Autostack sign-up asks for full name,
    email and password)."""

    name = forms.CharField(
        label="Full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": "Ada Lovelace"}),
    )
    field_order = ["name", "email", "password1", "password2"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Your name is required.")
        return name

    def signup(self, request, user):
        user.name = self.cleaned_data["name"]
        user.save(update_fields=["name"])


class ProfileForm(forms.Form):
    name = forms.CharField(label="Name", max_length=150)
    avatar = forms.ImageField(label="Avatar", required=False)
    remove_avatar = forms.BooleanField(label="Remove the current avatar", required=False)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Your name cannot be empty.")
        return name

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and avatar.size > settings.AVATAR_MAX_BYTES:
            raise ValidationError("Choose an image under 2 MB.")
        return avatar


class NotificationsForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = [
            "email_notifications",
            "deploy_success_notifications",
            "deploy_failure_notifications",
        ]
        labels = {
            "email_notifications": "Email notifications",
            "deploy_success_notifications": "Deployment succeeded",
            "deploy_failure_notifications": "Deployment failed",
        }
        help_texts = {
            "email_notifications": "Send me email about my account and sites.",
            "deploy_success_notifications": "Tell me when a deployment goes live.",
            "deploy_failure_notifications": "Tell me when a deployment fails.",
        }


class AppearanceForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = ["theme"]
        widgets = {"theme": forms.RadioSelect}


class TokenCreateForm(forms.Form):
    EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), ("", "Never")]
    name = forms.CharField(
        label="Token name",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "CI deploys"}),
    )
    expires_in_days = forms.ChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, required=False, initial="90"
    )
    team = forms.ChoiceField(
        label="Acts in",
        required=False,
        help_text="A team token acts in that team only, whoever you are in others.",
    )

    scopes = forms.MultipleChoiceField(
        label="Admin API",
        choices=[("admin:read", "Read (admin:read)"), ("admin:write", "Act (admin:write)")],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Operators only: what the token may do with the admin API.",
    )

    def __init__(self, *args, teams=(), operator: bool = False, **kwargs):
        """``teams``: the teams whose tokens this person may make (owner or admin);
        ``operator``: whether to offer the admin API's scopes."""
        super().__init__(*args, **kwargs)
        self.teams = {str(team.pk): team for team in teams}
        self.fields["team"].choices = [("", "Personal: every team I belong to")] + [
            (pk, f"Team: {team.name}") for pk, team in self.teams.items()
        ]
        if not operator:
            del self.fields["scopes"]

    def clean_expires_in_days(self):
        value = self.cleaned_data.get("expires_in_days")
        return int(value) if value else None

    def clean_team(self):
        value = self.cleaned_data.get("team")
        return self.teams[value] if value else None


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.CharField(
        label='Type "delete my account" to confirm',
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip().lower() != "delete my account":
            raise ValidationError('Type "delete my account" exactly.')
        return self.cleaned_data["confirm"]


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label="New sign-in address", max_length=254)
