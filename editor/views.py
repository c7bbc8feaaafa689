"""The editor's pages: a site's page list, the editor itself, page settings, revisions and the
private preview. Every change goes through ``editor.services``; the editor page saves and
publishes through the API (``editor.api``)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from controlpanel.api.throttling import DeploymentCreateThrottle
from controlpanel.forms import errors_to_form
from controlpanel.middleware import csp_override
from editor import forms, selectors, services
from editor.models import Page, Revision, Template
from hosting.files.errors import FileError
from hosting.views import render_tab, site_or_404
from teams.permissions import SITE_MANAGE, authorize, authorize_request, can

# The editor page runs GrapesJS, which writes style attributes and <style> elements into its
# canvas and its own panels: styles may be inline there. Scripts stay 'self' only, so nothing
# a page document carries (handlers, javascript: URLs, script elements) runs in the panel.
EDITOR_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; font-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
# The private preview shows a customer's page in the panel's origin: sandboxed, no scripts.
PREVIEW_CSP = (
    "default-src 'none'; img-src 'self' data: https:; style-src 'unsafe-inline'; "
    "font-src data: https:; sandbox"
)


def page_or_404(request, pk) -> Page:
    try:
        page = selectors.page_get(user=request.user, pk=pk)
    except Page.DoesNotExist as exc:
        raise Http404("No such page.") from exc
    authorize_request(request, page, SITE_MANAGE)
    return page


@login_required
def page_list(request, pk):
    site = site_or_404(request, pk)
    pages = selectors.site_nav_pages(site=site)
    context = {
        "pages": pages,
        "templates": selectors.template_list(),
        "create_form": forms.PageCreateForm(),
        "publication": selectors.publication_latest(site=site),
        "unpublished": selectors.unpublished_changes(site=site, pages=pages),
        "can_edit": can(request.user, SITE_MANAGE, site),
    }
    return render_tab(request, site, "pages", context, template="editor/pages.html")


@login_required
@require_POST
def page_create(request, pk):
    site = site_or_404(request, pk)
    form = forms.PageCreateForm(request.POST)
    if form.is_valid():
        try:
            page = services.page_create(
                site=site, title=form.cleaned_data["title"], author=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Page “{page.title}” added at {page.path}.")
            return redirect("editor:page-edit", pk=page.pk)
    else:
        messages.error(request, "Give the new page a title.")
    return redirect("editor:pages", pk=site.pk)


@login_required
@require_POST
def template_apply(request, pk):
    site = site_or_404(request, pk)
    try:
        template = selectors.template_get(slug=request.POST.get("template", "")[:60])
    except Template.DoesNotExist:
        messages.error(request, "Choose one of the templates below.")
        return redirect("editor:pages", pk=site.pk)
    try:
        pages = services.pages_from_template(site=site, template=template, author=request.user)
    except ValidationError as exc:
        messages.error(request, f"“{template.name}” could not be used: {' '.join(exc.messages)}")
        return redirect("editor:pages", pk=site.pk)
    messages.success(
        request, f"Added {len(pages)} page{'s' if len(pages) != 1 else ''} from “{template.name}”."
    )
    return redirect("editor:pages", pk=site.pk)


@login_required
@require_POST
def site_publish(request, pk):
    site = site_or_404(request, pk)
    if not DeploymentCreateThrottle().allow_request(request, None):
        messages.error(request, "Too many deployments in the last hour; try again later.")
        return redirect("editor:pages", pk=site.pk)
    try:
        services.site_publish(site=site, author=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except FileError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Published. {site.url} is serving the pages.")
    return redirect("editor:pages", pk=site.pk)


@login_required
@ensure_csrf_cookie
@csp_override(EDITOR_CSP)
def page_edit(request, pk):
    page = page_or_404(request, pk)
    site = page.site
    pages = selectors.site_nav_pages(site=site)
    config = {
        "pageId": str(page.pk),
        "title": page.title,
        "revision": page.revision,
        "document": json.loads(page.document),
        "documentUrl": reverse("api-editor-document", args=[page.pk]),
        "publishUrl": reverse("api-editor-publish", args=[site.pk]),
        "previewUrl": reverse("editor:page-preview", args=[page.pk]),
        "siteUrl": site.url,
        "assetsUrl": reverse("api-editor-assets", args=[site.pk]),
        "assets": selectors.asset_list(site=site),
        "canEdit": can(request.user, SITE_MANAGE, site),
        "nav": [
            {"title": link.title, "path": link.path, "current": link.current}
            for link in selectors.page_nav(pages=pages, current=page)
        ],
    }
    return render(
        request,
        "editor/editor.html",
        {"page": page, "site": site, "pages": pages, "config": config},
    )


@login_required
def page_settings(request, pk):
    page = page_or_404(request, pk)
    authorize(request.user, SITE_MANAGE, page)  # a form only those who may change it see
    initial = {
        "title": page.title,
        "slug": page.slug,
        "description": page.description,
        "social_image": page.social_image,
    }
    form = forms.PageSettingsForm(initial=initial)
    if request.method == "POST":
        form = forms.PageSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.page_update(page=page, **form.cleaned_data)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"Saved the settings of “{page.title}”.")
                return redirect("editor:pages", pk=page.site_id)
    return render_tab(
        request,
        page.site,
        "pages",
        {"page": page, "form": form},
        status=422 if form.errors else 200,
        template="editor/page_settings.html",
    )


@login_required
@require_POST
def page_duplicate(request, pk):
    page = page_or_404(request, pk)
    copy = services.page_duplicate(page=page, author=request.user)
    messages.success(request, f"Duplicated “{page.title}” as {copy.path}.")
    return redirect("editor:pages", pk=page.site_id)


@login_required
@require_POST
def page_home(request, pk):
    page = page_or_404(request, pk)
    services.page_set_home(page=page)
    messages.success(request, f"“{page.title}” is the home page from the next publish.")
    return redirect("editor:pages", pk=page.site_id)


@login_required
@require_POST
def page_delete(request, pk):
    page = page_or_404(request, pk)
    site_id = page.site_id
    services.page_delete(page=page)
    messages.success(request, f"Deleted “{page.title}”; its address goes at the next publish.")
    return redirect("editor:pages", pk=site_id)


@login_required
def revision_list(request, pk):
    page = page_or_404(request, pk)
    revisions = Paginator(selectors.revision_list(page=page), 30).get_page(request.GET.get("page"))
    return render_tab(
        request,
        page.site,
        "pages",
        {"page": page, "revisions": revisions, "can_edit": can(request.user, SITE_MANAGE, page)},
        template="editor/revisions.html",
    )


@login_required
@require_POST
def revision_restore(request, pk, number):
    page = page_or_404(request, pk)
    try:
        result = services.revision_restore(page=page, number=number, author=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Restored revision {number} as revision {result.revision}; publish to go live.",
        )
    return redirect("editor:page-revisions", pk=page.pk)


@login_required
@csp_override(PREVIEW_CSP)
def page_preview(request, pk):
    """The page as publishing would render it, for team members only (``?revision=`` shows an
    earlier one). Sandboxed: nothing in it runs."""
    page = page_or_404(request, pk)
    document = None
    raw = request.GET.get("revision", "")
    if raw:
        if not raw.isdigit():
            raise Http404("No such revision.")
        try:
            document = selectors.revision_get(page=page, number=int(raw)).document
        except Revision.DoesNotExist as exc:
            raise Http404("No such revision.") from exc
    response = HttpResponse(selectors.page_preview_html(page=page, document=document))
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
