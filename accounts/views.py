"""The settings pages (the Autostack client's tabs, plus API tokens, sessions, security log,
delete)."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import forms, selectors, services
from accounts.models import AccessToken, BrowserSession
from accounts.reauth import recent_check_required
from controlpanel.forms import errors_to_form
from teams import selectors as team_selectors
from teams.permissions import TOKEN_MANAGE

TABS = [
    ("profile", "Profile"),
    ("github", "GitHub"),
    ("notifications", "Notifications"),
    ("appearance", "Appearance"),
    ("tokens", "API tokens"),
    ("sessions", "Sessions"),
    ("security", "Security log"),
    ("account", "Account"),
]


def _render(request, tab: str, context: dict, status: int = 200):
    context.update(tabs=TABS, tab=tab)
    return render(request, f"accounts/settings_{tab}.html", context, status=status)


@login_required
def settings_index(request):
    return redirect("settings-tab", tab="profile")


@login_required
def settings_tab(request, tab: str):
    handler = _HANDLERS.get(tab)
    if handler is None:
        raise Http404("No such settings tab.")
    return handler(request)


def _profile(request):
    user = request.user
    form = forms.ProfileForm(initial={"name": user.name})
    if request.method == "POST":
        form = forms.ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.profile_update(
                    user=user,
                    name=form.cleaned_data["name"],
                    avatar=form.cleaned_data.get("avatar"),
                    remove_avatar=form.cleaned_data.get("remove_avatar", False),
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, "Profile saved.")
                return redirect("settings-tab", tab="profile")
    return _render(request, "profile", {"form": form}, status=422 if form.errors else 200)


def _github(request):
    from deployments.selectors import github_connection  # the token lives with deployments

    account = SocialAccount.objects.filter(user=request.user, provider="github").first()
    context = {"github_account": account, "github_connection": github_connection(user=request.user)}
    return _render(request, "github", context)


def _preferences_tab(request, tab: str, form_class, saved: str):
    prefs = services.preferences_get(user=request.user)
    form = form_class(instance=prefs)
    if request.method == "POST":
        form = form_class(request.POST, instance=prefs)
        if form.is_valid():
            services.preferences_update(user=request.user, **form.cleaned_data)
            messages.success(request, saved)
            return redirect("settings-tab", tab=tab)
    return _render(request, tab, {"form": form}, status=422 if form.errors else 200)


def _notifications(request):
    return _preferences_tab(
        request, "notifications", forms.NotificationsForm, "Notification settings saved."
    )


def _appearance(request):
    return _preferences_tab(request, "appearance", forms.AppearanceForm, "Theme saved.")


@recent_check_required
def _tokens(request):
    """API tokens; making one asks for the password again when the last check is old."""
    teams = team_selectors.team_list_allowing(user=request.user, action=TOKEN_MANAGE)
    form = forms.TokenCreateForm(teams=teams, operator=request.user.is_staff)
    new_token = None
    if request.method == "POST":
        form = forms.TokenCreateForm(request.POST, teams=teams, operator=request.user.is_staff)
        if form.is_valid():
            try:
                new_token = services.personal_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                    team=form.cleaned_data["team"],
                    scopes=form.cleaned_data.get("scopes", ()),
                    request=request,
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                form = forms.TokenCreateForm(teams=teams, operator=request.user.is_staff)
    tokens = selectors.active_tokens(user=request.user, kind=AccessToken.Kind.PERSONAL)
    context = {"form": form, "tokens": tokens, "new_token": new_token}
    return _render(request, "tokens", context, status=422 if form.errors else 200)


def _sessions(request):
    context = {
        "browser_sessions": selectors.browser_sessions(user=request.user),
        "api_sessions": selectors.active_tokens(user=request.user, kind=AccessToken.Kind.LOGIN),
        "current_key": request.session.session_key,
    }
    return _render(request, "sessions", context)


def _security(request):
    page = Paginator(selectors.security_events(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    return _render(request, "security", {"page": page})


def _account(request):
    return _render(request, "account", {"form": forms.DeleteAccountForm()})


_HANDLERS = {
    "profile": _profile,
    "github": _github,
    "notifications": _notifications,
    "appearance": _appearance,
    "tokens": _tokens,
    "sessions": _sessions,
    "security": _security,
    "account": _account,
}


@login_required
@require_POST
def token_revoke(request, pk):
    try:
        token = selectors.token_get(user=request.user, pk=pk)
    except AccessToken.DoesNotExist:
        raise Http404("No such token.") from None
    services.token_revoke(token=token, request=request)
    messages.success(request, f"Revoked “{token.name}”. It no longer works.")
    return redirect(
        "settings-tab", tab="tokens" if token.kind == AccessToken.Kind.PERSONAL else "sessions"
    )


@login_required
@require_POST
def session_revoke(request, pk):
    try:
        session = selectors.browser_session_get(user=request.user, pk=pk)
    except BrowserSession.DoesNotExist:
        raise Http404("No such session.") from None
    current = session.session_key == request.session.session_key
    services.browser_session_revoke(session=session, request=request)
    if current:
        logout(request)
        return redirect("account_login")
    messages.success(request, "That browser has been signed out.")
    return redirect("settings-tab", tab="sessions")


@login_required
@require_POST
def sign_out_everywhere(request):
    ended = services.sign_out_everywhere(user=request.user, request=request)
    logout(request)
    others = f" and {ended - 1} other browser(s)" if ended > 1 else ""
    messages.success(
        request, f"Signed out of this browser{others}; every API token has stopped working."
    )
    return redirect("account_login")


@login_required
@require_POST
def account_delete(request):
    form = forms.DeleteAccountForm(request.POST)
    if form.is_valid():
        try:
            services.account_delete(
                user=request.user, password=form.cleaned_data["password"], request=request
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            logout(request)
            messages.success(request, "Your account and everything in it has been deleted.")
            return redirect("landing")
    return _render(request, "account", {"form": form}, status=422)


@login_required
@recent_check_required
def email_change(request):
    """Ask for a new sign-in address; a confirmation link goes to it."""
    form = forms.EmailChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.email_change_request(user=request.user, new_email=form.cleaned_data["email"])
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(
                request,
                f"We sent a link to {form.cleaned_data['email']}. Your address changes when you "
                "follow it.",
            )
            return redirect("settings-tab", tab="profile")
    status = 422 if form.errors else 200
    return _render(request, "email", {"form": form}, status=status)


@login_required
def email_change_confirm(request, key):
    if request.method == "POST":
        try:
            user = services.email_change_confirm(user=request.user, key=key, request=request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"You now sign in with {user.email}.")
        return redirect("settings-tab", tab="profile")
    return _render(request, "email_confirm", {"key": key})
