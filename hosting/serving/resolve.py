"""What a path of a deployment answers: the contract both servers follow.

1. ``/.berth-internal/...`` is never served (the edge's internal locations live there).
2. The first *forced* ``_redirects`` rule (``!``) matching the path applies.
3. Otherwise the file: ``/dir/`` serves ``dir/index.html``; ``/about`` serves ``about``, then
   ``about.html`` (clean URLs), and when ``about/index.html`` exists redirects (301) to
   ``/about/`` so relative links work.
4. Otherwise the first matching ordinary rule applies.
5. Otherwise the site's ``404.html`` with status 404 (or Berth's own page).

A rewrite (200) or a 404 rule serves its target, tried as written, with ``.html`` and with
``/index.html``. ``_redirects`` and ``_headers`` themselves are never served.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from uuid import UUID

from hosting.serving.rules import HeaderBlock, Redirect, substitute

INTERNAL_PREFIX = "/.berth-internal/"
RULE_FILES = ("_redirects", "_headers")


@dataclass(frozen=True, slots=True)
class FileEntry:
    digest: str
    size: int
    mtime: int  # when these contents were first published (seconds); the edge sets it on disk
    gzip_size: int | None = None
    brotli_size: int | None = None


@dataclass
class Release:
    """A deployment as served: its files and its compiled rules (immutable, cached by id)."""

    deployment_id: UUID
    files: dict[str, FileEntry]
    redirects: list[Redirect] = field(default_factory=list)
    headers: list[HeaderBlock] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._forced = [(r, re.compile(r.regex)) for r in self.redirects if r.force]
        self._ordinary = [(r, re.compile(r.regex)) for r in self.redirects if not r.force]
        self._headers = [(b, re.compile(b.regex)) for b in self.headers]

    def extra_headers(self, path: str) -> tuple[list[tuple[str, str]], bool]:
        """``_headers`` for a request path, and whether one of them sets Cache-Control."""
        found, sets_cache = [], False
        for block, regex in self._headers:
            if regex.match(path):
                found.extend(block.headers)
                sets_cache = sets_cache or any(
                    n.lower() == "cache-control" for n, _ in block.headers
                )
        return found, sets_cache


@dataclass(frozen=True, slots=True)
class Serve:
    path: str  # manifest path of the file served
    entry: FileEntry
    status: int = 200


@dataclass(frozen=True, slots=True)
class Redirect_:
    status: int
    location: str


@dataclass(frozen=True, slots=True)
class NotFound:
    pass


NOT_FOUND = NotFound()


def normalise_path(path: str) -> str | None:
    """nginx's URI normalisation: merge slashes, resolve ``.``/``..``; None above the root."""
    if not path.startswith("/"):
        return None
    trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    clean = "/" + "/".join(parts)
    if trailing and clean != "/":
        clean += "/"
    return clean


def _lookup(files: dict[str, FileEntry], path: str) -> tuple[str, FileEntry] | None:
    key = posixpath.normpath(path).lstrip("/") if "//" in path else path.lstrip("/")
    entry = files.get(key)
    return (key, entry) if entry is not None else None


def _target(release: Release, target: str, status: int) -> Serve | NotFound:
    for candidate in (target, target + ".html", target + "/index.html"):
        if candidate.endswith("/"):
            continue
        found = _lookup(release.files, candidate)
        if found:
            return Serve(found[0], found[1], status)
    return NOT_FOUND


def _apply(release: Release, rule: Redirect, match: re.Match, query: str):
    target = substitute(rule.target, match.groupdict())
    if rule.is_rewrite:
        return _target(release, target, rule.status)
    if query and "?" not in target:
        target = f"{target}?{query}"
    return Redirect_(rule.status, target)


def resolve(release: Release, path: str, query: str = ""):
    """The answer for a normalised request path: Serve, Redirect_ or NotFound."""
    if path.startswith(INTERNAL_PREFIX):
        return NOT_FOUND
    for rule, regex in release._forced:
        match = regex.match(path)
        if match:
            return _apply(release, rule, match, query)
    files = release.files
    if path.endswith("/"):
        found = _lookup(files, path + "index.html")
        if found:
            return Serve(*found)
    else:
        key = path[1:]
        if key in files:
            return Serve(key, files[key])
        if key + ".html" in files:
            return Serve(key + ".html", files[key + ".html"])
        if key + "/index.html" in files:
            return Redirect_(301, f"{path}/?{query}" if query else f"{path}/")
    for rule, regex in release._ordinary:
        match = regex.match(path)
        if match:
            return _apply(release, rule, match, query)
    return NOT_FOUND


def local_blob_path(store, digest: str, variant: str = ""):
    """The blob's file when the blob storage is the local filesystem, else None."""
    from django.core.files.storage import FileSystemStorage

    if not isinstance(store.storage, FileSystemStorage):
        return None
    return store.local_path(digest, variant)


def not_found_page(release: Release) -> Serve | None:
    entry = release.files.get("404.html")
    return Serve("404.html", entry, 404) if entry else None
