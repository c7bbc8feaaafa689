"""Refuse oversized uploads from their Content-Length, before any middleware reads the body.

CSRF checking reads ``request.POST``, which would spool a multipart body to temporary files;
this answers 413 first (JSON envelope for the API and XHR, a page otherwise), and 507 when
the temporary folder's disk fills while a page's form is read.
"""

from __future__ import annotations

from django.core.exceptions import TooManyFilesSent
from django.shortcuts import render

from hosting.files.errors import FileError, StorageFull, TooLarge
from hosting.files.requests import check_request_size, too_many_files


class UploadSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("POST", "PUT", "PATCH") and request.content_type in (
            "multipart/form-data",
            "application/octet-stream",
            "application/zip",
        ):
            try:
                check_request_size(request.META)
                if request.method == "POST" and request.content_type == "multipart/form-data":
                    self.read_form(request)
            except (TooLarge, StorageFull) as exc:
                return self.refuse(request, exc)
        return self.get_response(request)

    @staticmethod
    def read_form(request) -> None:
        """A page's form is read here, as CSRF checking would read it next, so that too many
        files is the 413 the API gives rather than a 400 with an error in the log. API views
        read their own bodies (and answer the same 413)."""
        if request.path.startswith("/api/"):
            return
        try:
            request.POST  # noqa: B018 - parses the body, files included
        except TooManyFilesSent as exc:
            raise too_many_files() from exc

    @staticmethod
    def refuse(request, exc: FileError):
        wants_json = request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")
        if wants_json:
            # The API's envelope (with DRF) loads here, not in a WebSocket-only ASGI server.
            from controlpanel.api.exceptions import error_response

            return error_response(exc.status, exc.code, exc.message, exc.details)
        template = f"hosting/{exc.status}.html"
        return render(request, template, {"message": exc.message}, status=exc.status)
