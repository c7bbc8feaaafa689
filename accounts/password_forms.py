"""allauth forms Berth changes (ACCOUNT_FORMS). Apart from accounts.forms, which allauth's own
forms module imports for the sign-up form: importing allauth's forms there would be a cycle."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordKeyForm


class PasswordResetKeyForm(ResetPasswordKeyForm):
    """The new password from a reset link, asked once as on the sign-up page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["password2"]
        self.fields["password1"].label = "New password"
        self.fields["password1"].widget.attrs["placeholder"] = ""
