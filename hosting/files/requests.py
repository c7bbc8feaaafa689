"""Turning an upload request (HTML form, XHR or API) into the uploads the service takes."""

from __future__ import annotations

import json

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from hosting.files.errors import PathInvalid, TooLarge
from hosting.files.uploads import Upload

# Multipart framing around the files themselves.
REQUEST_OVERHEAD = 1024 * 1024


def check_request_size(meta) -> None:
    """Refuse a body over the per-request limit before it is read (413)."""
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.SITE_UPLOAD_MAX_REQUEST_SIZE + REQUEST_OVERHEAD:
        raise TooLarge(
            f"The upload is {filesizeformat(length)}; one upload may be at most "
            f"{filesizeformat(settings.SITE_UPLOAD_MAX_REQUEST_SIZE)}. Send fewer files at once.",
            {"limit": settings.SITE_UPLOAD_MAX_REQUEST_SIZE, "size": length},
        )


def too_many_files() -> TooLarge:
    """The 413 for a request with more files than one upload may hold (Django stops reading
    the body at ``DATA_UPLOAD_MAX_NUMBER_FILES``, which is ``SITE_UPLOAD_MAX_FILES``)."""
    limit = settings.SITE_UPLOAD_MAX_FILES
    return TooLarge(
        f"More than {limit} files in one upload; send at most {limit} at a time, or a zip archive.",
        {"limit": limit},
    )


def uploads_from(files: list, paths: str | None) -> list[Upload]:
    """Uploaded files, named by their relative paths when ``paths`` (a JSON list) gives them.

    Browsers send only a file's base name; folder uploads send each file's relative path in
    ``paths``, in the same order as the ``file`` fields.
    """
    names = [f.name for f in files]
    if paths:
        try:
            given = json.loads(paths)
        except ValueError as exc:
            raise PathInvalid("'paths' must be a JSON list of relative paths.") from exc
        if not isinstance(given, list) or len(given) != len(files):
            raise PathInvalid("'paths' must list one relative path for every file, in order.")
        if not all(isinstance(p, str) for p in given):
            raise PathInvalid("'paths' must hold text only.")
        names = given
    return [Upload(name=name, stream=f, size=f.size) for name, f in zip(names, files, strict=True)]


def truthy(value) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")
