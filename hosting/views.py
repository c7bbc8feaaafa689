"""Site pages: list, create, overview, deployments, settings, delete (file manager: views_files)."""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from billing.limits import plan_allows
from controlpanel.api.throttling import DeploymentCreateThrottle
from controlpanel.forms import errors_to_form
from deployments.models import Deployment
from deployments.services import deployment_rollback
from hosting import forms, selectors, services
from hosting.files.errors import FileError
from hosting.models import Site
from teams.context import current_team
from teams.permissions import SITE_MANAGE, authorize, authorize_request

TABS = [
    ("overview", "Overview", "hosting:site-detail"),
    ("files", "Files", "hosting:site-files"),
    ("pages", "Pages", "editor:pages"),
    ("deployments", "Deployments", "hosting:site-deployments"),
    ("backups", "Backups", "backups:site-backups"),
    ("settings", "Settings", "hosting:site-settings"),
]


def site_or_404(request, pk) -> Site:
    """A site of one of the user's teams, if their role allows this request (reads: any
    member; changes: ``site.manage``); another team's site is simply not found."""
    try:
        site = selectors.site_get(user=request.user, pk=pk)
    except Site.DoesNotExist as exc:
        raise Http404("No such site.") from exc
    authorize_request(request, site, SITE_MANAGE)
    return site


def render_tab(request, site: Site, tab: str, context: dict, status: int = 200, template: str = ""):
    tabs = [(slug, label, reverse(name, args=[site.pk])) for slug, label, name in TABS]
    # The editor and preview pages belong to the Files tab.
    context.setdefault("project", selectors.site_project(site=site))
    context.update(site=site, tab="files" if tab.startswith("file") else tab, tabs=tabs)
    return render(request, template or f"hosting/site_{tab}.html", context, status=status)


# What a site card shows (hosting/site_list.html and the usage meters it includes).
CARD_FIELDS = (
    "pk",
    "name",
    "status",
    "status_label",
    "url",
    "hostname",
    "storage_in_use",
    "storage_limit",
    "bandwidth_used",
    "bandwidth_limit",
    "live_deployment_id",
    "live_deployed_at",
    "last_deployed_at",
    "latest_deployment_id",
    "last_deployment_status",
)


@login_required
def site_list(request):
    search = request.GET.get("q", "").strip()[:100]
    team = current_team(request)
    page = Paginator(selectors.site_list(user=request.user, search=search, team=team), 24).get_page(
        request.GET.get("page")
    )
    # Each card as plain values, read once: the template finds a dict's keys at once, where a
    # model's attributes and properties cost it a failed item look-up first (24 cards, ~40
    # values each).
    page.object_list = [{name: getattr(site, name) for name in CARD_FIELDS} for site in page]
    return render(request, "hosting/site_list.html", {"page": page, "search": search})


@login_required
def site_create(request):
    team = current_team(request)
    authorize(request.user, SITE_MANAGE, team)
    form = forms.SiteCreateForm()
    if request.method == "POST":
        form = forms.SiteCreateForm(request.POST)
        if form.is_valid():
            try:
                site = services.site_create(
                    team=team,
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    slug=form.cleaned_data["slug"],
                )
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"Site “{site.name}” created. Upload its files next.")
                return redirect("hosting:site-files", pk=site.pk)
    status = 422 if form.errors else 200
    context = {"form": form, "allowance": plan_allows(team, "sites", adding=0)}
    return render(request, "hosting/site_create.html", context, status=status)


@login_required
@require_GET
def address_check(request):
    """Live validation for the create form: is this address free, and what would be?"""
    check = services.site_address_check(
        slug=request.GET.get("slug", ""), name=request.GET.get("name", "")[:100]
    )
    return JsonResponse(dataclasses.asdict(check))


@login_required
def site_detail(request, pk):
    site = site_or_404(request, pk)
    if site.kind == Site.Kind.WORDPRESS:  # its own page: status, versions, admin, start/stop
        return redirect("wordpress:detail", pk=site.pk)
    recent = selectors.site_deployments(user=request.user, site=site)[:5]
    context = {
        "recent": recent,
        "days": selectors.site_bandwidth_days(site=site),
        "month_start": selectors.month_start(),
    }
    return render_tab(request, site, "overview", context)


@login_required
def site_deployments(request, pk):
    site = site_or_404(request, pk)
    page = Paginator(selectors.site_deployments(user=request.user, site=site), 20).get_page(
        request.GET.get("page")
    )
    return render_tab(request, site, "deployments", {"page": page})


@login_required
@require_POST
def site_deploy(request, pk):
    site = site_or_404(request, pk)
    if not DeploymentCreateThrottle().allow_request(request, None):
        messages.error(request, "Too many deployments in the last hour; try again later.")
        return redirect("hosting:site-deployments", pk=site.pk)
    try:
        deployment = services.site_deploy(site=site, author=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("hosting:site-files", pk=site.pk)
    except FileError as exc:  # a full disk: nothing was published
        messages.error(request, exc.message)
        return redirect("hosting:site-files", pk=site.pk)
    stats = deployment.publish_stats
    plural = "s" if stats.files != 1 else ""
    message = f"Deployed {stats.files} file{plural} ({stats.blobs_written} new). "
    if site.status == Site.Status.OFFLINE:
        message += "The site stays offline until you bring it online."
    else:
        message += f"{site.url} is serving {'them' if plural else 'it'}."
    messages.success(request, message)
    return redirect("hosting:site-deployments", pk=site.pk)


@login_required
@require_POST
def site_rollback(request, pk, deployment_pk):
    site = site_or_404(request, pk)
    try:
        target = selectors.deployment_get(user=request.user, pk=deployment_pk)
    except Deployment.DoesNotExist as exc:
        raise Http404("No such deployment.") from exc
    if target.site_id != site.pk:
        raise Http404("No such deployment.")
    try:
        deployment_rollback(deployment=target, author=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Rolled back to the deployment of {target.created_at:%-d %b %Y, %H:%M}."
        )
    return redirect("hosting:site-deployments", pk=site.pk)


@login_required
def site_settings(request, pk):
    site = site_or_404(request, pk)
    form = forms.SiteRenameForm(initial={"name": site.name})
    if request.method == "POST":
        form = forms.SiteRenameForm(request.POST)
        if form.is_valid():
            try:
                services.site_rename(site=site, name=form.cleaned_data["name"])
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, "Site renamed.")
                return redirect("hosting:site-settings", pk=site.pk)
    status = 422 if form.errors else 200
    protection = forms.PreviewProtectionForm(initial={"protection": site.preview_protection})
    context = {"form": form, "protection_form": protection}
    return render_tab(request, site, "settings", context, status=status)


@login_required
@require_POST
def site_preview_protection(request, pk):
    site = site_or_404(request, pk)
    form = forms.PreviewProtectionForm(request.POST)
    if form.is_valid():
        try:
            services.site_preview_protection_set(
                site=site,
                protection=form.cleaned_data["protection"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            label = site.get_preview_protection_display().lower()
            messages.success(request, f"Previews of {site.name}: {label}.")
            return redirect("hosting:site-settings", pk=site.pk)
    context = {"form": forms.SiteRenameForm(initial={"name": site.name}), "protection_form": form}
    return render_tab(request, site, "settings", context, status=422)


def preview_unlock(request):
    """A protected preview's visitor lands here (the address sent them): the team's members
    go straight back, signed in; others enter the site's password."""
    from allauth.core import ratelimit

    raw = request.META.get("QUERY_STRING", "")
    next_path = raw.partition("&next=")[2] or "/"  # the rest, as the address received it
    initial = {"host": request.GET.get("host", ""), "next": next_path}
    form = forms.PreviewUnlockForm(request.POST or None, initial=initial)
    status, error = 200, ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not ratelimit.consume(request, action="preview_unlock", key=data["host"]):
            error, status = "Too many tries; wait a minute and try again.", 429
        else:
            try:
                link = services.preview_unlock(
                    host=data["host"],
                    next_path=data["next"],
                    user=request.user,
                    password=data["password"],
                )
            except services.PreviewUnlockRefused as exc:
                error, status = str(exc), 403
            except ValidationError as exc:
                error, status = exc.messages[0], 404
            else:
                return redirect(link)
    elif request.method == "GET":
        try:
            link = services.preview_unlock(
                host=initial["host"], next_path=next_path, user=request.user
            )
        except services.PreviewUnlockRefused:
            if selectors.preview_protection_for(host=initial["host"]) == "team":
                if not request.user.is_authenticated:
                    login = reverse("account_login")
                    return redirect(f"{login}?next={quote(request.get_full_path())}")
                error, status = "Only members of the site's team can open its previews.", 403
        except ValidationError as exc:
            error, status = exc.messages[0], 404
        else:
            return redirect(link)
    context = {"form": form, "error": error, "host": initial["host"]}
    context["needs_password"] = selectors.preview_protection_for(host=initial["host"]) == "password"
    return render(request, "hosting/preview_unlock.html", context, status=status)


@login_required
@require_POST
def site_status(request, pk):
    site = site_or_404(request, pk)
    offline = request.POST.get("action") == "offline"
    services.site_set_offline(site=site, offline=offline)
    if offline:
        messages.success(request, f"{site.hostname} is offline; visitors get “503 Unavailable”.")
    else:
        messages.success(request, f"{site.hostname} is back online.")
    return redirect("hosting:site-settings", pk=site.pk)


@login_required
@require_POST
def site_delete(request, pk):
    site = site_or_404(request, pk)
    services.site_delete(site=site)
    messages.success(request, f"Site “{site.name}” and its files were deleted.")
    return redirect("hosting:site-list")
