"""WordPress pages: create, the site's page (status, versions, admin link, start, stop,
settings, admin password, delete). Writes go through wordpress.services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from controlpanel.forms import act_and_report, errors_to_form
from hosting import selectors as site_selectors
from hosting.models import Site
from teams.context import current_team
from teams.permissions import SITE_MANAGE, authorize, authorize_request
from wordpress import forms, selectors, services
from wordpress.mariadb import MariaDBError
from wordpress.pools import PoolError
from wordpress.system import SiteSetupError


def wordpress_or_404(request, pk) -> Site:
    """A WordPress site of the user's teams their role allows this request on."""
    try:
        site = site_selectors.site_get(user=request.user, pk=pk)
    except Site.DoesNotExist as exc:
        raise Http404("No such site.") from exc
    if site.kind != Site.Kind.WORDPRESS:
        raise Http404("No such WordPress site.")
    authorize_request(request, site, SITE_MANAGE)
    return site


@login_required
def create(request):
    team = current_team(request)
    authorize(request.user, SITE_MANAGE, team)
    problem = services.wordpress_problem()
    form = forms.WordPressCreateForm(initial={"admin_email": request.user.email})
    if request.method == "POST" and not problem:
        form = forms.WordPressCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                site = services.wordpress_site_create(
                    owner=request.user,
                    team=team,
                    name=data["name"],
                    slug=data["slug"],
                    title=data["title"],
                    admin_user=data["admin_user"],
                    admin_email=data["admin_email"],
                    admin_password=data["admin_password"],
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"Setting up WordPress for “{site.name}”…")
                return redirect("wordpress:detail", pk=site.pk)
    status = 422 if form.errors else (409 if problem and request.method == "POST" else 200)
    context = {"form": form, "problem": problem}
    return render(request, "wordpress/create.html", context, status=status)


@login_required
def detail(request, pk):
    site = wordpress_or_404(request, pk)
    context = {
        "site": site,
        "wp": selectors.wordpress_detail(site=site),
        "settings_form": forms.SettingsForm(
            initial=_settings_of(site), ceilings=services.plan_limits(team=site.team)
        ),
        "password_form": forms.AdminPasswordForm(),
        "delete_form": forms.DeleteForm(),
    }
    return render(request, "wordpress/detail.html", context)


@login_required
@require_POST
def start(request, pk):
    site = wordpress_or_404(request, pk)
    act_and_report(
        request,
        lambda: services.wordpress_start(site=site),
        f"{site.hostname} is running again.",
        failures=(PoolError,),
    )
    return redirect("wordpress:detail", pk=site.pk)


@login_required
@require_POST
def stop(request, pk):
    site = wordpress_or_404(request, pk)
    act_and_report(
        request,
        lambda: services.wordpress_stop(site=site),
        f"{site.hostname} is stopped; visitors get “503 Unavailable”.",
        failures=(PoolError,),
    )
    return redirect("wordpress:detail", pk=site.pk)


def _settings_of(site: Site) -> dict:
    job = selectors.wordpress_for(site=site)
    return (
        {} if job is None else {name: getattr(job, name) for name in forms.SettingsForm.base_fields}
    )


@login_required
@require_POST
def settings(request, pk):
    """PHP limits, debug and maintenance mode, applied to the pool and wp-config.php."""
    site = wordpress_or_404(request, pk)
    act_and_report(
        request,
        lambda data: services.wordpress_settings_update(site=site, by=request.user, **data),
        "Settings saved and applied.",
        form=forms.SettingsForm(request.POST, initial=_settings_of(site)),
        failures=(PoolError, SiteSetupError, MariaDBError, OSError),
    )
    return redirect("wordpress:detail", pk=site.pk)


@login_required
@require_POST
def update(request, pk):
    """Back up, then update WordPress to the server's package version (a job the page follows)."""
    site = wordpress_or_404(request, pk)
    act_and_report(
        request,
        lambda: services.wordpress_core_update(site=site, by=request.user),
        "Backing up, then updating WordPress…",
    )
    return redirect("wordpress:detail", pk=site.pk)


@login_required
@require_POST
def password(request, pk):
    """A new password for the site's WordPress administrator."""
    site = wordpress_or_404(request, pk)
    act_and_report(
        request,
        lambda data: services.wordpress_admin_password_set(
            site=site, password=data["password"], by=request.user
        ),
        lambda login: f"The password of “{login}” is changed; log in to WordPress with it.",
        form=forms.AdminPasswordForm(request.POST),
        failures=(SiteSetupError,),
    )
    return redirect("wordpress:detail", pk=site.pk)


@login_required
@require_POST
def delete(request, pk):
    site = wordpress_or_404(request, pk)
    if act_and_report(
        request,
        lambda: services.wordpress_delete(site=site, confirm=request.POST.get("confirm", "")),
        f"“{site.name}” was deleted with its database, files and PHP pool.",
    ):
        return redirect("hosting:site-list")
    return redirect("wordpress:detail", pk=site.pk)


@login_required
@require_POST
def login(request, pk):
    """To wp-admin as the site's administrator, through a one-time link."""
    site = wordpress_or_404(request, pk)
    try:
        link = services.wordpress_login_link(site=site)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("wordpress:detail", pk=site.pk)
    # A page that moves on by itself: the panel's CSP (form-action 'self') would stop a redirect
    # from this form to the site's own address.
    return render(request, "wordpress/login.html", {"site": site, "link": link})
