"""Collect static files only when their sources changed.

``collectstatic`` (with hashing and compression) was about half of every restart. A digest of
every source file's path, size and modification time, and of the settings that shape the
output, is kept beside the collected files; a start whose digest matches (and whose manifest
is still there) skips the collection.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command

IGNORE = ["CVS", ".*", "*~"]  # collectstatic's default ignore patterns


def stamp_path() -> Path:
    root = Path(settings.STATIC_ROOT)
    return root.with_name(root.name + ".sha256")  # beside, not inside: nothing serves it


def sources_digest() -> str:
    digest = hashlib.sha256()
    shape = (
        settings.STATIC_URL,
        settings.STORAGES["staticfiles"]["BACKEND"],
        getattr(settings, "WHITENOISE_KEEP_ONLY_HASHED_FILES", False),
        getattr(settings, "WHITENOISE_SKIP_COMPRESS_EXTENSIONS", ()),
    )
    digest.update(repr(shape).encode())
    entries = []
    for finder in finders.get_finders():
        for path, storage in finder.list(IGNORE):
            stat = os.stat(storage.path(path))
            prefix = getattr(storage, "prefix", None) or ""
            entries.append(f"{prefix}/{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()


def collect_if_changed() -> bool:
    """Run collectstatic when the sources changed since the last collection (or the manifest
    is gone); True when it ran. Without a manifest storage (DEBUG) nothing is collected."""
    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if not manifest:
        return False
    stamp = stamp_path()
    digest = sources_digest()
    fresh = stamp.exists() and stamp.read_text().strip() == digest
    if fresh and staticfiles_storage.exists(manifest):
        return False
    stamp.unlink(missing_ok=True)  # an interrupted collection is not taken for a finished one
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(digest + "\n")
    return True
