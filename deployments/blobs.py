"""The blob store: file contents kept once, under their SHA-256 digest.

Blobs live in the ``blobs`` storage (local filesystem by default, S3-compatible object storage
when configured) at ``ab/cd/<digest>``, with precompressed ``.gz`` and ``.br`` variants for text.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import mimetypes
import os
from pathlib import Path
from typing import IO

import brotli
from django.core.files.base import File
from django.core.files.storage import storages

from hosting.files.whole import SCRATCH, ContentsChanged, write_whole

CHUNK = 1024 * 1024
COMPRESSIBLE_PREFIXES = ("text/",)
COMPRESSIBLE_TYPES = {
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/wasm",
    "image/svg+xml",
    "application/x-font-ttf",
    "font/ttf",
    "font/otf",
    "application/vnd.ms-fontobject",
}
# Precompression pays only above a few hundred bytes.
MIN_COMPRESS_SIZE = 256

EXTRA_TYPES = {
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".ico": "image/x-icon",
    ".map": "application/json",
}


def content_type_for(path: str) -> str:
    """The Content-Type a file is served with, from its name (text types in UTF-8)."""
    suffix = Path(path).suffix.lower()
    ctype = EXTRA_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
        ctype += "; charset=utf-8"
    return ctype


def is_compressible(content_type: str) -> bool:
    base = content_type.split(";")[0].strip()
    return base.startswith(COMPRESSIBLE_PREFIXES) or base in COMPRESSIBLE_TYPES


def hash_stream(stream: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class BlobStore:
    def __init__(self, storage=None):
        self.storage = storage or storages["blobs"]

    @staticmethod
    def key(digest: str, variant: str = "") -> str:
        return f"{digest[:2]}/{digest[2:4]}/{digest}{variant}"

    def exists(self, digest: str, variant: str = "") -> bool:
        return self.storage.exists(self.key(digest, variant))

    def open(self, digest: str, variant: str = "") -> IO[bytes]:
        return self.storage.open(self.key(digest, variant), "rb")

    def read(self, digest: str, variant: str = "") -> bytes:
        with self.open(digest, variant) as handle:
            return handle.read()

    def local_path(self, digest: str, variant: str = "") -> Path | None:
        """The file on local disk, when the storage is a filesystem (the embedded default)."""
        try:
            return Path(self.storage.path(self.key(digest, variant)))
        except NotImplementedError:
            return None

    def write(
        self, digest: str, stream: IO[bytes], content_type: str, size: int | None = None
    ) -> tuple[int | None, int | None]:
        """Store contents (and compressed variants for text); returns (gzip_size, brotli_size).

        Writing the same digest twice is harmless: the contents are identical by definition.
        Contents are checked against ``digest`` (and ``size``) as they are written: a blob is
        stored whole and right, or not at all (StorageFull when the disk is full).
        """
        stream.seek(0)
        self._save(self.key(digest), stream, digest=digest, size=size)
        if not is_compressible(content_type):
            return None, None
        stream.seek(0)
        data = stream.read()
        if len(data) < MIN_COMPRESS_SIZE:
            return None, None
        gz_size = br_size = None
        gz = gzip.compress(data, compresslevel=9, mtime=0)
        if len(gz) < len(data) * 0.95:
            self._save(self.key(digest, ".gz"), io.BytesIO(gz), size=len(gz))
            gz_size = len(gz)
        br = brotli.compress(data, quality=9)
        if len(br) < len(data) * 0.95:
            self._save(self.key(digest, ".br"), io.BytesIO(br), size=len(br))
            br_size = len(br)
        return gz_size, br_size

    def _save(self, key: str, stream: IO[bytes], *, digest=None, size=None) -> None:
        what = f"the stored file {key.rsplit('/', 1)[-1][:12]}…"
        try:
            target = self.storage.path(key)
        except NotImplementedError:  # object storage: an object appears whole or not at all
            self.storage.save(key, File(stream))
            if size is not None and self.storage.size(key) != size:
                self.storage.delete(key)
                raise ContentsChanged(f"{what} was stored short") from None
            return
        scratch = os.path.join(os.path.realpath(self.storage.location), SCRATCH)
        write_whole(target, stream, scratch=scratch, what=what, digest=digest, size=size)

    def stored_whole(self, digest: str, size: int) -> bool:
        """Whether the blob's file is there at its full size (on local disk; object storage
        is taken on trust, as objects are written whole)."""
        path = self.local_path(digest)
        if path is None:
            return True
        try:
            return path.stat().st_size == size
        except OSError:
            return False

    def delete(self, digest: str) -> None:
        for variant in ("", ".gz", ".br"):
            self.storage.delete(self.key(digest, variant))


def spool(data: bytes) -> IO[bytes]:
    return io.BytesIO(data)
