"""One site's working tree in the "sitefiles" storage, under ``<site-id>/``.

Django's Storage API has no folders, listing with sizes or moves, so two small adapters give
the file manager what it needs: ``LocalTree`` over FileSystemStorage (the embedded default)
and ``S3Tree`` over django-storages' S3Storage (any S3-compatible server). Both take paths
already cleaned by ``hosting.files.paths.clean_path`` and present the same behaviour; the
storage tests run the same cases against each.

Symbolic links on local disk are never followed: they are left out of listings, walks,
archives and deployments, and an operation on a path that passes through one is refused.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages

from hosting.files.errors import PathInvalid
from hosting.files.whole import SCRATCH, write_whole


@dataclass(frozen=True)
class Entry:
    """A file or folder; ``path`` is relative to the site's root."""

    path: str
    is_dir: bool
    size: int = 0
    modified: datetime | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


class LocalTree:
    def __init__(self, storage: FileSystemStorage, prefix: str):
        self.storage = storage
        self.prefix = prefix
        self.root = os.path.join(os.path.realpath(storage.location), prefix)

    def _full(self, path: str) -> str:
        full = os.path.join(self.root, path) if path else self.root
        # Refuse any symbolic link between the site's root and the target (or the root itself).
        if os.path.realpath(full) != os.path.normpath(full):
            raise PathInvalid("The path goes through a symbolic link, which is never followed.")
        return full

    def kind(self, path: str) -> str | None:
        """'file', 'dir' or None (missing, or something that is neither)."""
        full = self._full(path)
        if os.path.isdir(full):
            return "dir"
        if os.path.isfile(full):
            return "file"
        if not path:
            return "dir"  # an empty site has no folder on disk yet
        return None

    def _entry(self, path: str, stat: os.stat_result, is_dir: bool) -> Entry:
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        return Entry(path, is_dir, 0 if is_dir else stat.st_size, modified)

    def scan(self, folder: str) -> list[Entry]:
        full = self._full(folder)
        if not os.path.isdir(full):
            return []
        found = []
        with os.scandir(full) as items:
            for item in items:
                if item.is_symlink():
                    continue
                is_dir = item.is_dir(follow_symlinks=False)
                if not is_dir and not item.is_file(follow_symlinks=False):
                    continue
                stat = item.stat(follow_symlinks=False)
                found.append(self._entry(_join(folder, item.name), stat, is_dir))
        return found

    def walk(self, folder: str = "") -> Iterator[Entry]:
        """Every regular file under ``folder`` (recursively), symlinks left out."""
        base = self._full(folder)
        if not os.path.isdir(base):
            return
        for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
            dirnames[:] = sorted(
                d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))
            )
            rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                stat = os.lstat(full)
                if not os.path.isfile(full) or os.path.islink(full):
                    continue
                yield self._entry(_join(rel_dir, name), stat, False)

    def size(self, path: str) -> int:
        return os.lstat(self._full(path)).st_size

    def open(self, path: str) -> IO[bytes]:
        self._full(path)
        return self.storage.open(_join(self.prefix, path), "rb")

    def save(self, path: str, stream: IO[bytes]) -> None:
        """Write the file whole or not at all (a replaced file stays as it was on failure)."""
        write_whole(
            self._full(path),
            stream,
            scratch=os.path.join(os.path.realpath(self.storage.location), SCRATCH),
            what=f"“{path}”",
        )

    def make_dir(self, path: str) -> None:
        os.makedirs(self._full(path), exist_ok=True)

    def delete_file(self, path: str) -> None:
        os.remove(self._full(path))

    def delete_dir(self, path: str) -> None:
        full = self._full(path)
        if os.path.isdir(full):
            shutil.rmtree(full)  # rmtree removes links without following them

    def move(self, src: str, dst: str) -> None:
        source, target = self._full(src), self._full(dst)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(source, target)

    def remove_all(self) -> None:
        if os.path.isdir(self.root) and not os.path.islink(self.root):
            shutil.rmtree(self.root)


class S3Tree:
    """The same operations over an S3 bucket; empty folders are zero-byte ``<folder>/`` keys."""

    def __init__(self, storage, prefix: str):
        self.storage = storage
        self.prefix = prefix
        self.client = storage.connection.meta.client
        self.bucket = storage.bucket_name
        location = (storage.location or "").strip("/")
        self.base = f"{location}/{prefix}/" if location else f"{prefix}/"

    def _key(self, path: str) -> str:
        return self.base + path

    def _dir_key(self, path: str) -> str:
        return self.base + (f"{path}/" if path else "")

    def _pages(self, prefix: str, delimiter: bool):
        paginator = self.client.get_paginator("list_objects_v2")
        params = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = "/"
        yield from paginator.paginate(**params)

    def _file_exists(self, path: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(path))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def kind(self, path: str) -> str | None:
        if not path:
            return "dir"
        if self._file_exists(path):
            return "file"
        listed = self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self._dir_key(path), MaxKeys=1
        )
        return "dir" if listed.get("KeyCount", 0) else None

    def scan(self, folder: str) -> list[Entry]:
        prefix = self._dir_key(folder)
        found = []
        for page in self._pages(prefix, delimiter=True):
            for common in page.get("CommonPrefixes", ()):
                name = common["Prefix"][len(prefix) :].rstrip("/")
                if name:
                    found.append(Entry(_join(folder, name), True))
            for obj in page.get("Contents", ()):
                name = obj["Key"][len(prefix) :]
                if name and not name.endswith("/"):
                    found.append(
                        Entry(_join(folder, name), False, obj["Size"], obj["LastModified"])
                    )
        return found

    def walk(self, folder: str = "") -> Iterator[Entry]:
        for page in self._pages(self._dir_key(folder), delimiter=False):
            for obj in page.get("Contents", ()):
                key = obj["Key"]
                if key.endswith("/"):
                    continue  # a folder marker
                yield Entry(key[len(self.base) :], False, obj["Size"], obj["LastModified"])

    def size(self, path: str) -> int:
        return self.client.head_object(Bucket=self.bucket, Key=self._key(path))["ContentLength"]

    def open(self, path: str) -> IO[bytes]:
        return self.storage.open(_join(self.prefix, path), "rb")

    def save(self, path: str, stream: IO[bytes]) -> None:
        self.storage.save(_join(self.prefix, path), File(stream, name=path.rsplit("/", 1)[-1]))

    def make_dir(self, path: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._dir_key(path), Body=b"")

    def _keep_parent(self, path: str) -> None:
        # Local folders outlive their last file; keep the same behaviour here.
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent:
            self.make_dir(parent)

    def delete_file(self, path: str) -> None:
        self._keep_parent(path)
        self.client.delete_object(Bucket=self.bucket, Key=self._key(path))

    def _delete_prefix(self, prefix: str) -> None:
        batch: list[dict] = []
        for page in self._pages(prefix, delimiter=False):
            for obj in page.get("Contents", ()):
                batch.append({"Key": obj["Key"]})
                if len(batch) == 1000:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})
                    batch = []
        if batch:
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})

    def delete_dir(self, path: str) -> None:
        self._keep_parent(path)
        self._delete_prefix(self._dir_key(path))

    def _copy(self, src_key: str, dst_key: str) -> None:
        self.client.copy_object(
            Bucket=self.bucket, Key=dst_key, CopySource={"Bucket": self.bucket, "Key": src_key}
        )

    def move(self, src: str, dst: str) -> None:
        self._keep_parent(src)
        if self._file_exists(src):
            self._copy(self._key(src), self._key(dst))
            self.client.delete_object(Bucket=self.bucket, Key=self._key(src))
            return
        old, new = self._dir_key(src), self._dir_key(dst)
        keys = [obj["Key"] for page in self._pages(old, False) for obj in page.get("Contents", ())]
        for key in keys:
            self._copy(key, new + key[len(old) :])
        self._delete_prefix(old)

    def remove_all(self) -> None:
        self._delete_prefix(self.base)


def tree_for(site_id, storage=None) -> LocalTree | S3Tree:
    """The working tree of a site in the "sitefiles" storage."""
    storage = storage or storages["sitefiles"]
    prefix = str(site_id)
    if isinstance(storage, FileSystemStorage):
        return LocalTree(storage, prefix)
    if hasattr(storage, "bucket_name") and hasattr(storage, "connection"):
        return S3Tree(storage, prefix)
    raise NotImplementedError(f"The file manager does not support {type(storage).__name__}.")
