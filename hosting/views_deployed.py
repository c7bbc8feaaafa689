"""The Files tab of a site built from git: its live deployment's files, read-only.

The site's files come from its repository, so there is nothing to upload or edit here: the
tab lists the live deployment's folders, shows a text file or an image, and downloads a file.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from hosting.files import deployed
from hosting.files.errors import FileError
from hosting.files.paths import breadcrumbs, clean_path, is_image, is_text, name_of, parent_of
from hosting.models import Site
from hosting.views import render_tab, site_or_404

FOLDER_PAGE = 100
SHOW_TEXT_UP_TO = 512 * 1024
# An image shown in the panel's origin must never run script (SVG can).
PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _files_url(site: Site, folder: str = "") -> str:
    url = reverse("hosting:site-files", args=[site.pk])
    return f"{url}?{urlencode({'path': folder})}" if folder else url


def live_files(request, site: Site, project):
    """The listing (called by the Files tab for a site with a project)."""
    deployment = site.live_deployment
    folder = request.GET.get("path", "")
    entries = []
    if deployment is not None and deployment.manifest_id:
        try:
            folder = clean_path(folder, allow_root=True)
            entries = deployed.folder_list(deployment=deployment, folder=folder)
        except FileError as exc:
            if not folder:
                raise Http404(exc.message) from None
            messages.error(request, exc.message)
            return redirect(_files_url(site))
    page = Paginator(entries, FOLDER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": entry,
            "viewable": not entry.is_dir and (is_text(entry.path) or is_image(entry.path)),
        }
        for entry in page
    ]
    context = {
        "project": project,
        "deployment": deployment,
        "folder": folder,
        "parent": parent_of(folder) if folder else None,
        "crumbs": breadcrumbs(folder),
        "page": page,
        "rows": rows,
    }
    return render_tab(request, site, "files", context, template="hosting/site_files_live.html")


def _live(request, pk):
    site = site_or_404(request, pk)
    deployment = site.live_deployment
    if deployment is None or not deployment.manifest_id:
        raise Http404("Nothing is live yet.")
    return site, deployment


@login_required
@require_GET
def live_file(request, pk):
    """One file of the live deployment: text shown as text, an image shown; others download."""
    site, deployment = _live(request, pk)
    raw = request.GET.get("path", "")
    try:
        path = clean_path(raw)
        stream, size, ctype = deployed.file_open(deployment=deployment, path=path)
    except FileError as exc:
        messages.error(request, exc.message)
        return redirect(_files_url(site, parent_of(raw)))
    with stream:
        text = None
        if is_text(path) and size <= SHOW_TEXT_UP_TO:
            text = stream.read().decode("utf-8", errors="replace")
    context = {
        "path": path,
        "folder": parent_of(path),
        "crumbs": breadcrumbs(path),
        "size": size,
        "content_type": ctype,
        "text": text,
        "image": is_image(path),
        "deployment": deployment,
    }
    return render_tab(request, site, "files", context, template="hosting/site_file_live.html")


@login_required
@require_GET
def live_download(request, pk):
    """A file of the live deployment as an attachment (``?inline=1``: an image, sandboxed)."""
    site, deployment = _live(request, pk)
    raw = request.GET.get("path", "")
    try:
        path = clean_path(raw)
        stream, _size, ctype = deployed.file_open(deployment=deployment, path=path)
    except FileError as exc:
        messages.error(request, exc.message)
        return redirect(_files_url(site, parent_of(raw)))
    inline = request.GET.get("inline") == "1" and is_image(path)
    response = FileResponse(stream, as_attachment=not inline, filename=name_of(path))
    response["Content-Type"] = ctype
    if inline:
        response["Content-Security-Policy"] = PREVIEW_CSP
        response["Cache-Control"] = "private, no-cache"
    return response
