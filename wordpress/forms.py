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


class SettingsForm(forms.Form):
    memory_limit_mb = forms.IntegerField(label="PHP memory (MB)", min_value=1)
    upload_limit_mb = forms.IntegerField(label="Largest upload (MB)", min_value=1)
    max_execution_seconds = forms.IntegerField(label="Execution time (seconds)", min_value=1)
    debug = forms.BooleanField(
        label="Debug mode", required=False, help_text="Shows PHP errors on the site's pages."
    )
    maintenance = forms.BooleanField(
        label="Maintenance mode",
        required=False,
        help_text="Visitors get “down for maintenance”; you still see the site when logged in.",
    )
    UNITS = {"memory_limit_mb": "MB", "upload_limit_mb": "MB", "max_execution_seconds": "seconds"}

    def __init__(self, *args, ceilings: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, ceiling in (ceilings or {}).items():
            if name in self.UNITS:
                self.fields[name].widget.attrs["max"] = ceiling
                self.fields[
                    name
                ].help_text = f"Your plan allows up to {ceiling} {self.UNITS[name]}."


class AdminPasswordForm(forms.Form):
    password = forms.CharField(
        label="New admin password",
        min_length=10,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters.",
    )
