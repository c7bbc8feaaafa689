"""Paths inside a site's working tree: relative, '/'-separated, nothing that can leave the site.

Every path a user sends (query string, form field, upload name, zip entry) goes through
``clean_path`` before it reaches storage. Names are normalised to NFC and trimmed; control
characters, NUL, '..', absolute paths, Windows separators and drive letters are refused.
"""

from __future__ import annotations

import posixpath
import unicodedata
from pathlib import PurePosixPath

from hosting.files.errors import PathInvalid

MAX_PATH = 1024
MAX_SEGMENT = 255
MAX_DEPTH = 32

TEXT_EXTENSIONS = {
    ".html", ".htm", ".css", ".js", ".mjs", ".cjs", ".json", ".md", ".markdown", ".txt",
    ".svg", ".xml", ".csv", ".webmanifest", ".map", ".yml", ".yaml", ".toml", ".ts",
}  # fmt: skip
TEXT_NAMES = {"_redirects", "_headers", "robots.txt", ".htaccess", "license", "readme"}
# Right-to-left overrides and isolates disguise names ("gpj.exe"); refused with control characters.
BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp"}


def clean_segment(raw: str) -> str:
    """One file or folder name: NFC, trimmed, no separators or control characters."""
    if not isinstance(raw, str):
        raise PathInvalid("A name must be text.")
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise PathInvalid("A name is empty.")
    if "\x00" in name:
        raise PathInvalid("A name contains a NUL byte.")
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in BIDI_CONTROLS for ch in name):
        raise PathInvalid(f"“{name!r}” contains control characters.")
    if "\\" in name:
        raise PathInvalid(f"“{name}” contains a Windows path separator (\\).")
    if "/" in name:
        raise PathInvalid(f"“{name}” contains '/'; a name is one file or folder.")
    if name in (".", ".."):
        raise PathInvalid("“.” and “..” are not names.")
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        raise PathInvalid(f"“{name}” starts with a drive letter.")
    if len(name.encode()) > MAX_SEGMENT:
        raise PathInvalid(f"“{name[:40]}…” is longer than {MAX_SEGMENT} bytes.")
    return name


def clean_path(raw: str | None, *, allow_root: bool = False) -> str:
    """A relative path inside the site ('' is the root folder when ``allow_root``)."""
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise PathInvalid("A path must be text.")
    if "\x00" in raw:
        raise PathInvalid("The path contains a NUL byte.")
    if "\\" in raw:
        raise PathInvalid("The path uses Windows separators (\\); use '/'.")
    text = unicodedata.normalize("NFC", raw).strip()
    if len(text) >= 2 and text[1] == ":" and text[0].isalpha():
        raise PathInvalid("The path starts with a drive letter; paths are relative to the site.")
    if text.startswith("/"):
        raise PathInvalid("The path is absolute; paths are relative to the site.")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if not parts:
        if allow_root:
            return ""
        raise PathInvalid("The path is empty.")
    if any(p.strip() == ".." for p in parts):
        raise PathInvalid("The path climbs out of the site with '..'.")
    if len(parts) > MAX_DEPTH:
        raise PathInvalid(f"Folders nest deeper than {MAX_DEPTH} levels.")
    path = "/".join(clean_segment(p) for p in parts)
    if len(path.encode()) > MAX_PATH:
        raise PathInvalid(f"The path is longer than {MAX_PATH} bytes.")
    return path


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def parent_of(path: str) -> str:
    return posixpath.dirname(path)


def name_of(path: str) -> str:
    return posixpath.basename(path)


def ancestors(path: str) -> list[str]:
    """'a/b/c.txt' -> ['a', 'a/b'] (the folders that must exist for it)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def breadcrumbs(folder: str) -> list[tuple[str, str]]:
    """[(label, path)] from the root to ``folder``."""
    crumbs = []
    for i, part in enumerate(folder.split("/") if folder else []):
        crumbs.append((part, "/".join(folder.split("/")[: i + 1])))
    return crumbs


def is_text(path: str) -> bool:
    p = PurePosixPath(path)
    return p.suffix.lower() in TEXT_EXTENSIONS or p.name.lower() in TEXT_NAMES


def is_image(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in IMAGE_EXTENSIONS
