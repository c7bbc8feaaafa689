"""Refuse oversized uploads from their Content-Length, before any middleware reads the body.

CSRF checking reads ``request.POST``, which would spool a multipart body to temporary files;
this answers 413 first (JSON envelope for the API and XHR, a page otherwise).
"""

from __future__ import annotations

from django.shortcuts import render

from controlpanel.api.exceptions import error_response
from hosting.files.errors import TooLarge
from hosting.files.requests import check_request_size


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
            except TooLarge as exc:
                wants_json = request.path.startswith("/api/") or "json" in request.headers.get(
                    "Accept", ""
                )
                if wants_json:
                    return error_response(413, exc.code, exc.message, exc.details)
                return render(request, "hosting/413.html", {"message": exc.message}, status=413)
        return self.get_response(request)
