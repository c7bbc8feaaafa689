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
    progress(f"Uploading {len(required)} of {len(by_digest)} distinct files…")

    def upload(digest: str) -> int:
        source = by_digest.get(digest)
        if source is None:
            raise ApiError(0, "UNEXPECTED_DIGEST", f"The server asked for an unknown {digest}.")
        data = source.source.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise FolderError(f"“{source.path}” changed while it was being deployed; run again.")
        client.put_bytes(f"/deployments/{deployment_id}/blobs/{digest}", data)
        return len(data)

    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        sizes = list(pool.map(upload, required))
    published = client.post(f"/deployments/{deployment_id}/publish")
    return FolderDeploy(
        deployment=published, files=len(files), uploaded=len(sizes), uploaded_bytes=sum(sizes)
    )
