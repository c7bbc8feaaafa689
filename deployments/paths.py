"""Paths inside a release: relative, '/'-separated, nothing that could escape the site."""

from __future__ import annotations

import posixpath
import unicodedata

from django.core.exceptions import ValidationError

MAX_PATH = 1024
MAX_SEGMENT = 255


def manifest_path(raw: str) -> str:
    """Normalise a file's path in a release, refusing anything that is not plainly inside it.

    Refused: empty paths, absolute paths, '..' segments, NUL and control characters, Windows
    separators and drive letters, segments over 255 bytes.
    """
    if not isinstance(raw, str) or not raw:
        raise ValidationError("A file path is empty.")
    path = unicodedata.normalize("NFC", raw)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise ValidationError(f"“{raw!r}” contains control characters.")
    if "\\" in path or (len(path) > 1 and path[1] == ":"):
        raise ValidationError(f"“{raw}” uses Windows separators or a drive letter.")
    if path.startswith("/"):
        raise ValidationError(f"“{raw}” is absolute; paths are relative to the site.")
    parts = path.split("/")
    if any(part == ".." for part in parts):
        raise ValidationError(f"“{raw}” climbs out of the site with '..'.")
    clean = posixpath.normpath(path)
    if clean in ("", ".") or clean.startswith("../"):
        raise ValidationError(f"“{raw}” is not a file inside the site.")
    if len(clean.encode()) > MAX_PATH or any(
        len(p.encode()) > MAX_SEGMENT for p in clean.split("/")
    ):
        raise ValidationError(f"“{raw[:80]}…” is too long.")
    return clean
