"""The file manager's pages: browse, upload (XHR with progress, or a plain form), folders,
rename, move, delete, download (a file, or a folder as a streamed zip), edit and preview.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from controlpanel.api.exceptions import error_body
from hosting import forms, selectors, views_deployed
from hosting.files import operations as ops
from hosting.files.errors import FileError, FileNotFound, NotEditable, PathConflict
from hosting.files.paths import breadcrumbs, clean_path, is_image, is_text, name_of, parent_of
from hosting.files.requests import truthy, uploads_from
from hosting.files.uploads import files_upload
from hosting.views import render_tab, site_or_404

FOLDER_PAGE = 100
# Previews render in the panel's origin: never let a previewed file run script (SVG can).
PREVIEW_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _files_url(site, folder: str = "") -> str:
    url = reverse("hosting:site-files", args=[site.pk])
    return f"{url}?{urlencode({'path': folder})}" if folder else url


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _fail(request, site, exc: FileError, folder: str = ""):
    if _wants_json(request):
        return JsonResponse(
            error_body(exc.status, exc.code, exc.message, exc.details), status=exc.status
        )
    messages.error(request, exc.message)
    return redirect(_files_url(site, folder))


def _safe_folder(raw: str) -> str:
    try:
        return clean_path(raw, allow_root=True)
    except FileError:
        return ""


@login_required
def site_files(request, pk):
    site = site_or_404(request, pk)
    project = selectors.site_project(site=site)
    if project is not None:  # built from git: the live deployment's files, read-only
        return views_deployed.live_files(request, site, project)
    folder = request.GET.get("path", "")
    try:
        folder = clean_path(folder, allow_root=True)
        entries = ops.folder_list(site=site, folder=folder)
    except FileError as exc:
        if not folder:
            raise
        messages.error(request, exc.message)
        return redirect(_files_url(site))
    page = Paginator(entries, FOLDER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": entry,
            "editable": not entry.is_dir and is_text(entry.path),
            "image": not entry.is_dir and is_image(entry.path),
        }
        for entry in page
    ]
    context = {
        "folder": folder,
        "parent": parent_of(folder) if folder else None,
        "crumbs": breadcrumbs(folder),
        "page": page,
        "rows": rows,
        # Distinct ids: both popovers sit on the page and each label must find its own field.
        "folder_form": forms.FolderCreateForm(initial={"folder": folder}, auto_id="folder_%s"),
        "new_file_form": forms.NewFileForm(initial={"folder": folder}, auto_id="new_file_%s"),
        "limits": {
            "file": settings.SITE_UPLOAD_MAX_FILE_SIZE,
            "request": settings.SITE_UPLOAD_MAX_REQUEST_SIZE,
            "files": settings.SITE_UPLOAD_MAX_FILES,
            "free": max(0, site.storage_limit - site.storage_used),
        },
    }
    return render_tab(request, site, "files", context)


@login_required
@require_POST
def files_upload_view(request, pk):
    """Many files, folders (relative paths in ``paths``) or a zip; all written or none."""
    site = site_or_404(request, pk)
    folder = _safe_folder(request.POST.get("folder", ""))
    try:
        result = files_upload(
            site=site,
            folder=request.POST.get("folder", ""),
            uploads=uploads_from(request.FILES.getlist("file"), request.POST.get("paths")),
            extract=truthy(request.POST.get("extract")),
        )
    except FileError as exc:
        return _fail(request, site, exc, folder)
    count = len(result.files)
    message = f"Uploaded {count} file{'s' if count != 1 else ''}"
    message += f" ({result.replaced} replaced)." if result.replaced else "."
    messages.success(request, message)  # shown when the page reloads after an XHR upload
    if _wants_json(request):
        return JsonResponse(
            {
                "message": message,
                "files": result.files,
                "bytes": result.bytes,
                "storage": {"used": site.storage_used, "total": site.storage_limit},
            },
            status=201,
        )
    return redirect(_files_url(site, folder))


def _simple_action(request, pk, form_class, action, success):
    """POST handlers sharing one shape: validate a small form, call the service, go back."""
    site = site_or_404(request, pk)
    form = form_class(request.POST)
    back = _safe_folder(request.POST.get("folder") or parent_of(request.POST.get("path", "")))
    if not form.is_valid():
        messages.error(
            request,
            "Fill in the form: "
            + "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
        )
        return redirect(_files_url(site, back))
    try:
        outcome = action(site, form.cleaned_data)
    except FileError as exc:
        return _fail(request, site, exc, back)
    messages.success(request, success(outcome))
    return redirect(_files_url(site, back))


@login_required
@require_POST
def folder_create(request, pk):
    return _simple_action(
        request,
        pk,
        forms.FolderCreateForm,
        lambda site, data: ops.folder_create(site=site, folder=data["folder"], name=data["name"]),
        lambda path: f"Folder “{name_of(path)}” created.",
    )


@login_required
@require_POST
def file_create(request, pk):
    site = site_or_404(request, pk)
    form = forms.NewFileForm(request.POST)
    folder = _safe_folder(request.POST.get("folder", ""))
    if not form.is_valid():
        messages.error(request, "Give the new file a name.")
        return redirect(_files_url(site, folder))
    try:
        path = clean_path(
            f"{folder}/{form.cleaned_data['name']}" if folder else form.cleaned_data["name"]
        )
        if ops.path_kind(site=site, path=path) is not None:
            raise PathConflict(f"“{path}” already exists.")
        ops.text_save(site=site, path=path, content="")
    except FileError as exc:
        return _fail(request, site, exc, folder)
    return redirect(f"{reverse('hosting:file-edit', args=[site.pk])}?{urlencode({'path': path})}")


@login_required
@require_POST
def path_rename(request, pk):
    return _simple_action(
        request,
        pk,
        forms.RenameForm,
        lambda site, data: ops.path_rename(site=site, path=data["path"], new_name=data["name"]),
        lambda path: f"Renamed to “{name_of(path)}”.",
    )


@login_required
@require_POST
def path_move(request, pk):
    return _simple_action(
        request,
        pk,
        forms.MoveForm,
        lambda site, data: ops.path_move(site=site, path=data["path"], folder=data["folder"]),
        lambda path: f"Moved to “{parent_of(path) or 'the top level'}”.",
    )


@login_required
@require_POST
def path_delete(request, pk):
    def describe(result):
        if not result.was_folder:
            return f"Deleted “{name_of(result.path)}”."
        count = f"{result.files} file{'s' if result.files != 1 else ''}"
        return f"Deleted the folder “{name_of(result.path)}” and the {count} in it."

    return _simple_action(
        request,
        pk,
        forms.PathForm,
        lambda site, data: ops.path_delete(site=site, path=data["path"]),
        describe,
    )


@login_required
@require_GET
def file_download(request, pk):
    """A file as an attachment, or a folder (the whole site for no path) as a streamed zip."""
    site = site_or_404(request, pk)
    raw = request.GET.get("path", "")
    try:
        path = clean_path(raw, allow_root=True)
        if ops.path_kind(site=site, path=path) == "file":
            stream, _size, ctype = ops.file_open(site=site, path=path)
            response = FileResponse(stream, as_attachment=True, filename=name_of(path))
            response["Content-Type"] = ctype
            return response
        chunks = ops.folder_zip_stream(site=site, folder=path)
    except FileError as exc:
        return _fail(request, site, exc, _safe_folder(parent_of(raw)))
    response = StreamingHttpResponse(chunks, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{name_of(path) or site.slug}.zip"
    )
    return response


@login_required
@require_GET
def file_preview(request, pk):
    """An image, inline, for the preview (scripts in SVG never run: sandboxed)."""
    site = site_or_404(request, pk)
    try:
        path = clean_path(request.GET.get("path", ""))
        if not is_image(path):
            raise FileNotFound("Only images are previewed; download other files.")
        stream, _size, ctype = ops.file_open(site=site, path=path)
    except FileError as exc:
        return JsonResponse(error_body(exc.status, exc.code, exc.message), status=exc.status)
    response = FileResponse(stream, content_type=ctype)
    response["Content-Security-Policy"] = PREVIEW_CSP
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def file_edit(request, pk):
    """Edit a text file in the browser; images get a preview page instead."""
    site = site_or_404(request, pk)
    raw = request.GET.get("path", "")
    folder = _safe_folder(parent_of(raw))
    try:
        path = clean_path(raw)
        if is_image(path) and not is_text(path):
            if ops.path_kind(site=site, path=path) != "file":
                raise FileNotFound(f"There is no file “{path}”.")
            context = {"path": path, "folder": folder, "crumbs": breadcrumbs(path), "preview": True}
            return render_tab(request, site, "file_edit", context)
        if request.method == "POST":
            form = forms.TextFileForm(request.POST)
            if form.is_valid():
                ops.text_save(site=site, path=path, content=form.cleaned_data["content"])
                messages.success(request, f"Saved “{name_of(path)}”.")
                return redirect(f"{request.path}?{urlencode({'path': path})}")
        else:
            form = forms.TextFileForm(initial={"content": ops.text_read(site=site, path=path)})
    except NotEditable as exc:
        messages.error(request, exc.message)
        return redirect(_files_url(site, folder))
    except FileError as exc:
        if request.method == "POST":
            return render_tab(
                request,
                site,
                "file_edit",
                {
                    "path": raw,
                    "folder": folder,
                    "crumbs": breadcrumbs(raw),
                    "form": forms.TextFileForm(request.POST),
                    "error": exc.message,
                },
                status=exc.status,
            )
        return _fail(request, site, exc, folder)
    context = {"path": path, "folder": folder, "crumbs": breadcrumbs(path), "form": form}
    return render_tab(request, site, "file_edit", context)
