"""The file manager's operations on one site's working tree (HTML views and API call these).

Every path is cleaned first (``hosting.files.paths``); every write keeps ``Site.storage_used``
exact and checks the quota before anything is written (``hosting.services``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.conf import settings

from deployments.blobs import content_type_for
from hosting.files import quota
from hosting.files.backends import Entry, tree_for
from hosting.files.errors import FileNotFound, NotEditable, PathConflict, PathInvalid
from hosting.files.paths import clean_path, clean_segment, is_text, join, name_of, parent_of
from hosting.models import Site

CHUNK = 256 * 1024


@dataclass(frozen=True)
class DeleteResult:
    path: str
    files: int
    bytes: int
    was_folder: bool = False


def _sort(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (not e.is_dir, e.name.casefold(), e.name))


def folder_list(*, site: Site, folder: str = "") -> list[Entry]:
    """The folders, then the files, directly inside ``folder`` (sorted by name)."""
    folder = clean_path(folder, allow_root=True)
    tree = tree_for(site.pk)
    kind = tree.kind(folder)
    if kind == "file":
        raise PathConflict(f"“{folder}” is a file, not a folder.")
    if kind is None:
        raise FileNotFound(f"There is no folder “{folder}”.")
    return _sort(tree.scan(folder))


def path_kind(*, site: Site, path: str) -> str | None:
    return tree_for(site.pk).kind(clean_path(path, allow_root=True))


def file_open(*, site: Site, path: str) -> tuple[IO[bytes], int, str]:
    """(stream, size, content type) of a file; the caller closes the stream."""
    path = clean_path(path)
    tree = tree_for(site.pk)
    if tree.kind(path) != "file":
        raise FileNotFound(f"There is no file “{path}”.")
    return tree.open(path), tree.size(path), content_type_for(path)


def text_read(*, site: Site, path: str) -> str:
    """The contents of a text file for the editor (UTF-8, up to SITE_EDITOR_MAX_SIZE)."""
    path = clean_path(path)
    if not is_text(path):
        raise NotEditable(f"“{name_of(path)}” is not a text file the editor opens.")
    stream, size, _ = file_open(site=site, path=path)
    with stream:
        if size > settings.SITE_EDITOR_MAX_SIZE:
            raise NotEditable(
                f"“{name_of(path)}” is larger than the editor opens; download it instead."
            )
        data = stream.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotEditable(f"“{name_of(path)}” is not UTF-8 text.") from exc


def text_save(*, site: Site, path: str, content: str) -> Entry:
    """Write a text file (new or existing) from the editor, within the site's quota."""
    path = clean_path(path)
    if not is_text(path):
        raise NotEditable(f"“{name_of(path)}” is not a text file the editor saves.")
    tree = tree_for(site.pk)
    kind = tree.kind(path)
    if kind == "dir":
        raise PathConflict(f"“{path}” is a folder.")
    old_size = 0
    if kind == "file":
        old_size = tree.size(path)
        with tree.open(path) as stream:
            crlf = b"\r\n" in stream.read(64 * 1024)
        # Browsers send textareas with CRLF line ends; keep the file's own convention.
        if not crlf:
            content = content.replace("\r\n", "\n")
    else:
        content = content.replace("\r\n", "\n")
    data = content.encode("utf-8")
    if len(data) > settings.SITE_EDITOR_MAX_SIZE:
        raise NotEditable("The text is larger than the editor saves; upload the file instead.")
    _check_parents(tree, path)
    delta = len(data) - old_size
    quota.site_storage_reserve(site=site, delta=delta)
    try:
        tree.save(path, io.BytesIO(data))
    except Exception:
        quota.site_storage_recount(site=site)
        raise
    return Entry(path, False, len(data))


def _check_parents(tree, path: str) -> None:
    parts = path.split("/")[:-1]
    for i in range(len(parts)):
        ancestor = "/".join(parts[: i + 1])
        if tree.kind(ancestor) == "file":
            raise PathConflict(f"“{ancestor}” is a file, so it cannot hold “{name_of(path)}”.")


def folder_create(*, site: Site, folder: str, name: str) -> str:
    """Create ``name`` inside ``folder``; answers the new folder's path."""
    parent = clean_path(folder, allow_root=True)
    path = join(parent, clean_segment(name))
    path = clean_path(path)
    tree = tree_for(site.pk)
    if tree.kind(path) is not None:
        raise PathConflict(f"“{path}” already exists.")
    _check_parents(tree, path)
    tree.make_dir(path)
    return path


def path_rename(*, site: Site, path: str, new_name: str) -> str:
    """Rename a file or folder in place; answers the new path."""
    path = clean_path(path)
    target = clean_path(join(parent_of(path), clean_segment(new_name)))
    return _move(site, path, target)


def path_move(*, site: Site, path: str, folder: str) -> str:
    """Move a file or folder into ``folder`` (created when missing); answers the new path."""
    path = clean_path(path)
    folder = clean_path(folder, allow_root=True)
    if folder == path or folder.startswith(path + "/"):
        raise PathInvalid("A folder cannot be moved into itself.")
    return _move(site, path, clean_path(join(folder, name_of(path))))


def _move(site: Site, path: str, target: str) -> str:
    if target == path:
        return path
    tree = tree_for(site.pk)
    if tree.kind(path) is None:
        raise FileNotFound(f"There is no file or folder “{path}”.")
    if tree.kind(target) is not None:
        raise PathConflict(f"“{target}” already exists.")
    _check_parents(tree, target)
    tree.move(path, target)
    return target


def path_delete(*, site: Site, path: str) -> DeleteResult:
    """Delete a file, or a folder with everything in it; frees its bytes from the quota."""
    path = clean_path(path)
    tree = tree_for(site.pk)
    kind = tree.kind(path)
    if kind is None:
        raise FileNotFound(f"There is no file or folder “{path}”.")
    if kind == "file":
        size = tree.size(path)
        tree.delete_file(path)
        quota.site_storage_adjust(site=site, delta=-size)
        return DeleteResult(path, 1, size)
    files = list(tree.walk(path))
    freed = sum(e.size for e in files)
    tree.delete_dir(path)
    quota.site_storage_adjust(site=site, delta=-freed)
    return DeleteResult(path, len(files), freed, was_folder=True)


def files_for_publish(*, site: Site) -> list[tuple[str, callable]]:
    """The working tree as deployment_publish's (path, opener) list."""
    tree = tree_for(site.pk)
    return [(e.path, (lambda p=e.path: tree.open(p))) for e in tree.walk("")]


class _Pipe(io.RawIOBase):
    """A write-only sink whose bytes the streaming generator collects after each write."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.chunks.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


def folder_zip_stream(*, site: Site, folder: str = "") -> Iterator[bytes]:
    """A zip of ``folder`` (paths relative to it), produced while it is sent: nothing is staged."""
    folder = clean_path(folder, allow_root=True)
    tree = tree_for(site.pk)
    if tree.kind(folder) != "dir":
        raise FileNotFound(f"There is no folder “{folder}”.")
    entries = list(tree.walk(folder))

    def generate() -> Iterator[bytes]:
        pipe = _Pipe()
        with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entry in entries:
                name = entry.path[len(folder) + 1 :] if folder else entry.path
                info = zipfile.ZipInfo(name, date_time=_zip_time(entry))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.file_size = entry.size
                with tree.open(entry.path) as source, archive.open(info, "w") as target:
                    while chunk := source.read(CHUNK):
                        target.write(chunk)
                        if pipe.offset and len(pipe.chunks) >= 8:
                            yield pipe.take()
                if pipe.chunks:
                    yield pipe.take()
        if pipe.chunks:
            yield pipe.take()

    return generate()


def _zip_time(entry: Entry) -> tuple:
    if entry.modified is None or entry.modified.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return entry.modified.timetuple()[:6]
