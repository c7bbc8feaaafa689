"""HTML forms of WordPress sites. They check shape; services check meaning."""

from __future__ import annotations

from django import forms

from hosting.forms import SiteCreateForm


class WordPressCreateForm(SiteCreateForm):
    title = forms.CharField(
        label="Site title", max_length=200, required=False, help_text="Empty: the name."
    )
    admin_user = forms.CharField(label="Admin user name", max_length=60, initial="admin")
    admin_email = forms.EmailField(label="Admin email")
    admin_password = forms.CharField(
        label="Admin password",
        min_length=10,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters; you log in to WordPress with it.",
    )


class DeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the site's address to confirm", max_length=63)
