"""Forms of the deploy wizard and the project settings page."""

from __future__ import annotations

from django import forms

from deployments.filters import STATUS_CHOICES


class DeployForm(forms.Form):
    """The Autostack deploy wizard's three steps in one form: repository; branch and build;
    deploy."""

    repository = forms.CharField(
        label="Repository",
        max_length=1000,
        help_text="One of your GitHub repositories, or any git URL (https://… or file://…).",
        widget=forms.TextInput(
            attrs={"placeholder": "https://github.com/you/site.git", "autocomplete": "off"}
        ),
    )
    branch = forms.CharField(
        label="Branch",
        max_length=255,
        required=False,
        help_text="Leave empty for the repository's default branch.",
        widget=forms.TextInput(
            attrs={
                "list": "branch-options",
                "autocomplete": "off",
                "placeholder": "The default branch",
            }
        ),
    )
    install_command = forms.CharField(
        label="Install command",
        max_length=2000,
        required=False,
        help_text="Leave empty to detect it from the lockfile (npm ci, pnpm, yarn, pip).",
        widget=forms.TextInput(attrs={"placeholder": "Detected from the repository"}),
    )
    build_command = forms.CharField(
        label="Build command",
        max_length=2000,
        required=False,
        help_text="Runs in the repository's root. Leave empty to detect it from the framework.",
        widget=forms.TextInput(attrs={"placeholder": "Detected from the framework"}),
    )
    output_dir = forms.CharField(
        label="Output directory",
        max_length=255,
        required=False,
        help_text="The folder the build writes the site to, relative to the repository "
        "(“.” for the repository itself). Leave empty to detect it.",
        widget=forms.TextInput(attrs={"placeholder": "Detected from the framework"}),
    )
    env_vars = forms.CharField(
        label="Environment variables",
        required=False,
        help_text="One NAME=value per line. Values are encrypted and never shown again.",
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "NODE_ENV=production\nAPI_URL=https://api.example.com"}
        ),
    )
    auto_deploy = forms.BooleanField(
        label="Deploy automatically on every push to this branch",
        required=False,
        initial=True,
    )


DETECTED = "Empty: detected from the repository at every build."


class ProjectForm(forms.Form):
    branch = forms.CharField(
        max_length=255, help_text="It must exist in the repository; it is checked on save."
    )
    install_command = forms.CharField(max_length=2000, required=False, help_text=DETECTED)
    build_command = forms.CharField(max_length=2000, required=False, help_text=DETECTED)
    output_dir = forms.CharField(max_length=255, required=False, help_text=DETECTED)
    env_vars = forms.CharField(
        label="Replace environment variables",
        required=False,
        help_text="Leave empty to keep the current variables. One NAME=value per line.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    clear_env_vars = forms.BooleanField(label="Remove all environment variables", required=False)
    auto_deploy = forms.BooleanField(label="Deploy automatically on push", required=False)
    preview_branches = forms.CharField(
        label="Preview branches",
        max_length=255,
        required=False,
        # Plain text: help is rendered as HTML, where "<branch>" would be a tag and vanish.
        help_text="Pushes to these other branches build a preview at its own address "
        "(branch--site address), never production: “*” for all, a pattern such as "
        "“feature/*”, or empty for none.",
    )
    preview_env_vars = forms.CharField(
        label="Replace preview variables",
        required=False,
        help_text="Variables of preview builds only (previews never see the production ones). "
        "Leave empty to keep them. One NAME=value per line.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    clear_preview_env_vars = forms.BooleanField(
        label="Remove all preview variables", required=False
    )


class DeploymentFilterForm(forms.Form):
    search = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search repositories…"}),
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False)
