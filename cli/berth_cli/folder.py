"""Deploying a folder: hash every file, send the manifest, upload only the files the server asks
for, publish."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from berth_cli.api import ApiError, Client

# Version-control folders and desktop litter never belong on a site.
SKIPPED_DIRS = {".git", ".hg", ".svn", "__MACOSX"}
SKIPPED_FILES = {".DS_Store", "Thumbs.db"}
CHUNK = 1024 * 1024
UPLOAD_THREADS = 4
# Files up to 1 MiB go several to a request (at most 100 files or 8 MiB); larger ones alone.
BATCH_FILE_SIZE = 1024 * 1024
BATCH_FILES = 100
BATCH_BYTES = 8 * 1024 * 1024


class FolderError(Exception):
    pass


@dataclass
class FolderFile:
    path: str  # relative, '/'-separated
    source: Path
    digest: str
    size: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(root: Path) -> list[FolderFile]:
    """Every file under ``root``, hashed; symbolic links are refused (as the server's builds
    refuse them), version-control folders skipped."""
    root = root.resolve()
    if not root.is_dir():
        raise FolderError(f"{root} is not a folder.")
    found: list[FolderFile] = []
    for current, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in dirs:
            if (Path(current) / name).is_symlink():
                relative = (Path(current) / name).relative_to(root).as_posix()
                raise FolderError(f"“{relative}” is a symbolic link; links are not deployed.")
        for name in sorted(names):
            if name in SKIPPED_FILES:
                continue
            source = Path(current) / name
            relative = source.relative_to(root).as_posix()
            if source.is_symlink():
                raise FolderError(f"“{relative}” is a symbolic link; links are not deployed.")
            if not source.is_file():
                continue
            found.append(FolderFile(relative, source, sha256_file(source), source.stat().st_size))
    if not found:
        raise FolderError(f"{root} holds no files to deploy.")
    return found


@dataclass
class FolderDeploy:
    deployment: dict
    files: int
    uploaded: int
    uploaded_bytes: int


def deploy_folder(
    client: Client,
    site_id: str,
    root: Path,
    *,
    draft: bool = False,
    progress: Callable[[str], None] = lambda message: None,
) -> FolderDeploy:
    files = scan(root)
    manifest = {f.path: f.digest for f in files}
    progress(f"{len(files)} files hashed; asking {client.url} which it needs…")
    started = client.post(f"/sites/{site_id}/deploys", {"files": manifest, "activate": not draft})
    deployment_id = started["deployment"]["id"]
    required = started.get("required") or []
    by_digest: dict[str, FolderFile] = {}
    for f in files:
        by_digest.setdefault(f.digest, f)
    unknown = [d for d in required if d not in by_digest]
    if unknown:
        raise ApiError(0, "UNEXPECTED_DIGEST", f"The server asked for unknown files: {unknown}.")
    progress(f"Uploading {len(required)} of {len(by_digest)} distinct files…")

    def contents(digest: str) -> bytes:
        source = by_digest[digest]
        data = source.source.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise FolderError(f"“{source.path}” changed while it was being deployed; run again.")
        return data

    def upload(batch: list[str]) -> int:
        if len(batch) == 1 and by_digest[batch[0]].size > BATCH_FILE_SIZE:
            data = contents(batch[0])
            client.put_bytes(f"/deployments/{deployment_id}/blobs/{batch[0]}", data)
            return len(data)
        parts = [(d, (by_digest[d].path.rsplit("/", 1)[-1], contents(d))) for d in batch]
        client.post_files(f"/deployments/{deployment_id}/blobs", parts)
        return sum(len(part[1][1]) for part in parts)

    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        sizes = list(pool.map(upload, batches(required, by_digest)))
    published = client.post(f"/deployments/{deployment_id}/publish")
    return FolderDeploy(
        deployment=published, files=len(files), uploaded=len(required), uploaded_bytes=sum(sizes)
    )


def batches(required: list[str], by_digest: dict[str, FolderFile]) -> list[list[str]]:
    """Small files together (up to BATCH_FILES or BATCH_BYTES a request), large ones alone."""
    groups: list[list[str]] = []
    current: list[str] = []
    current_bytes = 0
    for digest in required:
        size = by_digest[digest].size
        if size > BATCH_FILE_SIZE:
            groups.append([digest])
            continue
        if current and (len(current) >= BATCH_FILES or current_bytes + size > BATCH_BYTES):
            groups.append(current)
            current, current_bytes = [], 0
        current.append(digest)
        current_bytes += size
    if current:
        groups.append(current)
    return groups
