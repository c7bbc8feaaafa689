"""Files written whole or not at all, and a full disk told apart from other storage errors.

A write goes to a temporary file in a scratch folder on the same filesystem, and is renamed
into place only once every byte is on disk: a full disk (ENOSPC, or a filesystem quota) or any
other failure leaves the target as it was (an older version stays whole) and nothing behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from contextlib import suppress
from typing import IO

from django.conf import settings

from hosting.files.errors import StorageFull

CHUNK = 1024 * 1024
SCRATCH = ".partial"  # beside the stored trees, never inside a site's folder
FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL_ERRNOS


def storage_full(what: str) -> StorageFull:
    return StorageFull(
        f"The server's disk is full, so {what} could not be written; nothing of it was kept. "
        "Free some space on the server (or ask its operator), then try again.",
        {"reason": "no space left on device"},
    )


class ContentsChanged(Exception):
    """The bytes read were not those expected (the source changed or was cut short)."""


def write_whole(
    target: str,
    stream: IO[bytes],
    *,
    scratch: str,
    what: str = "the file",
    digest: str | None = None,
    size: int | None = None,
) -> tuple[str, int]:
    """Copy ``stream`` to ``target`` whole or not at all; returns (sha256, size) written.

    With ``digest`` or ``size``, contents that differ are refused (ContentsChanged) and not
    kept. A full disk raises StorageFull; other errors go up as they are."""
    os.makedirs(scratch, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=scratch, prefix="write-")
    try:
        hasher, written = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
                written += len(chunk)
        if (digest is not None and hasher.hexdigest() != digest) or (
            size is not None and written != size
        ):
            raise ContentsChanged(f"{what} changed while it was being written")
        os.chmod(temporary, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(temporary, target)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temporary)
        if disk_full(exc):
            raise storage_full(what) from exc
        raise
    return hasher.hexdigest(), written
