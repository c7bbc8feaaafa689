"""HTML forms of the hosting pages. They check shape; services check meaning."""

from __future__ import annotations

from django import forms
from django.conf import settings

from hosting.models import Site
from hosting.slugs import slug_problem


class SiteCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        widget=forms.TextInput(attrs={"autofocus": True, "data-slug-source": ""}),
        help_text="Shown in the panel; you can change it later.",
    )
    slug = forms.CharField(
        label="Address",
        max_length=63,
        required=False,
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "spellcheck": "false", "data-slug-input": ""}
        ),
        help_text="Lower-case letters, digits and hyphens; empty makes one from the name.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].widget.attrs["data-domain"] = settings.SITES_DOMAIN

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip().lower()
        problem = slug_problem(slug) if slug else None
        if problem:
            raise forms.ValidationError(problem)
        return slug


class SiteRenameForm(forms.Form):
    name = forms.CharField(max_length=100)


class PreviewProtectionForm(forms.Form):
    protection = forms.ChoiceField(
        label="Who may open previews",
        choices=Site.PreviewProtection.choices,
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label="Password",
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="For “Anyone with the password”; leave empty to keep the current one.",
    )


class PreviewUnlockForm(forms.Form):
    host = forms.CharField(widget=forms.HiddenInput, max_length=253)
    next = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
    password = forms.CharField(
        label="Password", required=False, widget=forms.PasswordInput, max_length=200
    )


class FolderCreateForm(forms.Form):
    folder = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label="Folder name", max_length=255)


class RenameForm(forms.Form):
    path = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(label="New name", max_length=255)


class MoveForm(forms.Form):
    path = forms.CharField(widget=forms.HiddenInput)
    folder = forms.CharField(
        label="Move to folder",
        required=False,
        max_length=1024,
        help_text="Empty for the top level.",
    )


class PathForm(forms.Form):
    path = forms.CharField(widget=forms.HiddenInput)


class TextFileForm(forms.Form):
    content = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"class": "code-editor", "spellcheck": "false", "rows": 28}),
    )


class NewFileForm(forms.Form):
    folder = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label="File name", max_length=255, help_text="For example about.html")
