"""Uploading files, folders and zip archives into a site: all or nothing, within the quota.

An upload is checked whole before anything is written: every path is cleaned, the count and
sizes are held to the limits (docs/sites-and-files.md), collisions with existing files and
folders are refused, and the bytes it adds (minus the files it replaces) are reserved from the
site's quota in one atomic UPDATE. A zip is checked from its directory first (entry names,
symbolic links, declared sizes against the limits and the quota), then unpacked into a private
temporary folder with every entry held to its declared size (zip bombs stop there), and only
then copied into the site.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from hosting.files import quota
from hosting.files.backends import tree_for
from hosting.files.errors import ArchiveInvalid, FileError, PathConflict, PathInvalid, TooLarge
from hosting.files.paths import clean_path, join, parent_of
from hosting.files.whole import disk_full, storage_full
from hosting.models import Site

CHUNK = 256 * 1024


@dataclass
class Upload:
    """One file as received: ``name`` may be a relative path ("css/site.css")."""

    name: str
    stream: IO[bytes]
    size: int


@dataclass
class UploadResult:
    files: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)
    bytes: int = 0
    replaced: int = 0


@dataclass
class _Planned:
    path: str
    size: int
    source: Upload | None = None
    staged: Path | None = None


def _limit(size: int, what: str) -> None:
    if size > settings.SITE_UPLOAD_MAX_FILE_SIZE:
        raise TooLarge(
            f"{what} is {filesizeformat(size)}; files may be at most "
            f"{filesizeformat(settings.SITE_UPLOAD_MAX_FILE_SIZE)}.",
            {"limit": settings.SITE_UPLOAD_MAX_FILE_SIZE, "size": size},
        )


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _zip_plan(upload: Upload, folder: str) -> tuple[zipfile.ZipFile, list, list[str]]:
    """Open and check an archive from its directory; nothing is unpacked yet."""
    try:
        archive = zipfile.ZipFile(upload.stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveInvalid(f"“{upload.name}” is not a readable zip archive.") from exc
    infos = archive.infolist()
    if len(infos) > settings.SITE_ZIP_MAX_FILES:
        raise TooLarge(
            f"“{upload.name}” holds {len(infos)} entries; archives may hold at most "
            f"{settings.SITE_ZIP_MAX_FILES}.",
            {"limit": settings.SITE_ZIP_MAX_FILES, "entries": len(infos)},
        )
    files, folders, declared = [], [], 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ArchiveInvalid(f"“{upload.name}” is encrypted; upload it unencrypted.")
        if _is_symlink(info):
            raise ArchiveInvalid(
                f"“{upload.name}” contains a symbolic link ({info.filename}); links are refused."
            )
        try:
            path = clean_path(info.filename.rstrip("/") if info.is_dir() else info.filename)
        except PathInvalid as exc:
            raise PathInvalid(
                f"“{upload.name}” has an unsafe entry “{info.filename}”: {exc.message}"
            ) from exc
        target = clean_path(join(folder, path))
        if info.is_dir():
            folders.append(target)
            continue
        _limit(info.file_size, f"“{info.filename}” in “{upload.name}”")
        declared += info.file_size
        files.append((info, target))
    if declared > settings.SITE_ZIP_MAX_UNCOMPRESSED:
        raise TooLarge(
            f"“{upload.name}” unpacks to {filesizeformat(declared)}; archives may unpack to at "
            f"most {filesizeformat(settings.SITE_ZIP_MAX_UNCOMPRESSED)}.",
            {"limit": settings.SITE_ZIP_MAX_UNCOMPRESSED, "size": declared},
        )
    return archive, files, folders


def _unpack(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> int:
    """Copy one entry out, refusing more bytes than its header declares."""
    written = 0
    try:
        with archive.open(info) as source, dest.open("wb") as target:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise ArchiveInvalid(
                        f"“{info.filename}” unpacks to more than its declared size; refused."
                    )
                target.write(chunk)
    except (zipfile.BadZipFile, EOFError, NotImplementedError, OSError) as exc:
        if disk_full(exc):
            raise storage_full(f"“{info.filename}”") from exc
        raise ArchiveInvalid(f"“{info.filename}” could not be unpacked: {exc}") from exc
    return written


def files_upload(
    *, site: Site, folder: str = "", uploads: list[Upload], extract: bool = False
) -> UploadResult:
    """Write the uploads into ``folder`` of the site, all of them or none.

    With ``extract``, a ``.zip`` upload is unpacked into ``folder`` instead of stored.
    """
    folder = clean_path(folder, allow_root=True)
    if not uploads:
        raise PathInvalid("Choose at least one file to upload.")
    if len(uploads) > settings.SITE_UPLOAD_MAX_FILES:
        raise TooLarge(
            f"{len(uploads)} files in one upload; send at most {settings.SITE_UPLOAD_MAX_FILES} "
            "at a time, or a zip archive.",
            {"limit": settings.SITE_UPLOAD_MAX_FILES, "files": len(uploads)},
        )
    total = sum(u.size for u in uploads)
    if total > settings.SITE_UPLOAD_MAX_REQUEST_SIZE:
        raise TooLarge(
            f"The upload is {filesizeformat(total)}; one upload may be at most "
            f"{filesizeformat(settings.SITE_UPLOAD_MAX_REQUEST_SIZE)}.",
            {"limit": settings.SITE_UPLOAD_MAX_REQUEST_SIZE, "size": total},
        )

    planned: list[_Planned] = []
    archives: list[tuple[zipfile.ZipFile, list]] = []
    folders: list[str] = []
    for upload in uploads:
        if extract and upload.name.lower().endswith(".zip"):
            archive, entries, zip_folders = _zip_plan(upload, folder)
            archives.append((archive, entries))
            folders.extend(zip_folders)
            planned.extend(_Planned(target, info.file_size) for info, target in entries)
            continue
        _limit(upload.size, f"“{upload.name}”")
        planned.append(_Planned(clean_path(join(folder, clean_path(upload.name))), upload.size))
        planned[-1].source = upload

    tree = tree_for(site.pk)
    replaced = _check_collisions(tree, planned, folders)
    declared = sum(p.size for p in planned) - sum(replaced.values())
    quota.site_storage_check(site=site, delta=declared)

    with tempfile.TemporaryDirectory(
        prefix="berth-unzip-", dir=settings.FILE_UPLOAD_TEMP_DIR
    ) as tmp:
        # Unpack archives first (bounded by their declared sizes), so a lying archive fails here.
        index = 0
        by_target = {p.path: p for p in planned}
        for archive, entries in archives:
            with archive:
                for info, target in entries:
                    index += 1
                    dest = Path(tmp) / f"{index:06d}"
                    by_target[target].size = _unpack(archive, info, dest)
                    by_target[target].staged = dest
        delta = sum(p.size for p in planned) - sum(replaced.values())
        quota.site_storage_reserve(site=site, delta=delta)
        result = UploadResult(replaced=len(replaced))
        try:
            for path in sorted(set(folders)):
                if tree.kind(path) is None:
                    tree.make_dir(path)
                    result.folders.append(path)
            for item in planned:
                if item.staged is not None:
                    with item.staged.open("rb") as stream:
                        tree.save(item.path, stream)
                else:
                    item.source.stream.seek(0)
                    tree.save(item.path, item.source.stream)
                result.files.append(item.path)
                result.sizes[item.path] = item.size
                result.bytes += item.size
        except Exception:
            # Storage failed part-way (a full disk): take back the files this upload added,
            # then count what is really there so the quota stays exact. Each file is written
            # whole or not at all, so a file it was replacing is either old or new, never cut.
            for path in result.files:
                if path not in replaced:
                    with suppress(OSError, FileError):
                        tree.delete_file(path)
            quota.site_storage_recount(site=site)
            raise
    return result


def _check_collisions(tree, planned: list[_Planned], folders: list[str]) -> dict[str, int]:
    """Refuse duplicates and file/folder clashes; answer {path: size} of files replaced."""
    targets: dict[str, _Planned] = {}
    for item in planned:
        if item.path in targets:
            raise PathConflict(f"“{item.path}” appears twice in the upload.")
        targets[item.path] = item
    needed_dirs = set(folders)
    for path in targets:
        parts = path.split("/")[:-1]
        needed_dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    clash = needed_dirs & targets.keys()
    if clash:
        raise PathConflict(f"“{sorted(clash)[0]}” would be both a file and a folder.")

    # One listing per folder involved tells what exists, its kind and size.
    listings: dict[str, dict[str, tuple[bool, int]]] = {}

    def existing(path: str) -> tuple[bool, int] | None:
        parent = parent_of(path)
        if parent not in listings:
            if parent and parent in needed_dirs and existing(parent) is None:
                listings[parent] = {}  # the parent does not exist yet: nothing inside it
            else:
                listings[parent] = {e.path: (e.is_dir, e.size) for e in tree.scan(parent)}
        return listings[parent].get(path)

    for path in sorted(needed_dirs, key=lambda p: p.count("/")):
        found = existing(path)
        if found is not None and not found[0]:
            raise PathConflict(f"“{path}” is a file, so it cannot become a folder.")
    replaced = {}
    for path in targets:
        found = existing(path)
        if found is not None:
            if found[0]:
                raise PathConflict(f"“{path}” is a folder; a file cannot replace it.")
            replaced[path] = found[1]
    return replaced
