"""allauth adapters: sign-up stores the display name and creates the user's preferences."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.urls import reverse

from accounts.models import Preferences, SecurityEvent
from controlpanel.http import client_ip


@dataclass(frozen=True)
class PanelSite:
    """What allauth's emails call the site: Berth, not the host the request came in on."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        # allauth's rate limits count by the same address as the rest of Berth.
        return client_ip(request) or "unknown"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        site = PanelSite(name="Berth", domain=urlsplit(settings.PANEL_URL).netloc)
        context = {**context, "current_site": site, "panel_url": settings.PANEL_URL}
        super().send_mail(template_prefix, email, context)

    def get_login_redirect_url(self, request):
        """After signing in with a recovery code, go straight to setting two-factor up again."""
        if request.session.pop("berth_two_factor_setup_again", False):
            messages.warning(
                request,
                "You signed in with a recovery code. Set up your authenticator again and make "
                "new recovery codes.",
            )
            return reverse("mfa_index")
        return super().get_login_redirect_url(request)

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.name = (form.cleaned_data.get("name") or user.name or "").strip()
        if commit:
            user.save()
            Preferences.objects.get_or_create(user=user)
            from accounts.services import security_event_record

            security_event_record(kind=SecurityEvent.Kind.SIGN_UP, request=request, user=user)
        return user


class ProviderNotConfigured(Http404, SocialApp.DoesNotExist):
    """A sign-in provider without keys: a 404 page for its URLs, still a DoesNotExist to
    allauth's own callers that look for configured apps."""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request, provider, client_id=None):
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist as exc:
            raise ProviderNotConfigured(f"Sign-in with {provider} is not configured.") from exc

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        full = data.get("name") or " ".join(
            p for p in (data.get("first_name"), data.get("last_name")) if p
        )
        user.name = (full or data.get("username") or user.email.split("@")[0])[:150]
        return user

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        Preferences.objects.get_or_create(user=user)
        return user
