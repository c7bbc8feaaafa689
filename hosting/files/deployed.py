"""A deployment's files as a read-only folder tree: the Files tab of a site built from git.

A git-built site has no working files; what it serves is its live deployment's manifest. These
reads list a folder of that manifest and open one of its files from the blob store.
"""

from __future__ import annotations

from typing import IO

from deployments.blobs import BlobStore
from deployments.models import Deployment, ManifestEntry
from hosting.files.backends import Entry
from hosting.files.errors import FileNotFound
from hosting.files.paths import clean_path


def folder_list(*, deployment: Deployment, folder: str = "") -> list[Entry]:
    """The folders, then the files, directly inside ``folder`` of the deployment."""
    folder = clean_path(folder, allow_root=True)
    prefix = f"{folder}/" if folder else ""
    rows = ManifestEntry.objects.filter(manifest_id=deployment.manifest_id)
    if prefix:
        rows = rows.filter(path__startswith=prefix)
    modified = deployment.finished_at or deployment.created_at
    folders: dict[str, int] = {}
    files: list[Entry] = []
    for path, size in rows.values_list("path", "size").iterator():
        name, sep, _rest = path[len(prefix) :].partition("/")
        if sep:
            folders[name] = folders.get(name, 0) + size
        else:
            files.append(Entry(path=path, is_dir=False, size=size, modified=modified))
    if folder and not folders and not files:
        raise FileNotFound(f"There is no folder “{folder}” in the live deployment.")
    listed = [
        Entry(path=f"{prefix}{name}", is_dir=True, size=size, modified=modified)
        for name, size in sorted(folders.items(), key=lambda item: item[0].lower())
    ]
    return listed + sorted(files, key=lambda entry: entry.name.lower())


def file_open(*, deployment: Deployment, path: str) -> tuple[IO[bytes], int, str]:
    """(stream, size, content type) of one file of the deployment; the caller closes it."""
    path = clean_path(path)
    entry = ManifestEntry.objects.filter(manifest_id=deployment.manifest_id, path=path).first()
    if entry is None:
        raise FileNotFound(f"There is no file “{path}” in the live deployment.")
    return BlobStore().open(entry.blob_id), entry.size, entry.content_type
