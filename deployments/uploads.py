"""Folder deploys that send only the files the server lacks (the ``berth`` command-line client's
path, and anyone's through the API).

1. ``upload_deploy_start``: the client sends the manifest it wants (path -> SHA-256 digest); an
   ``uploading`` deployment records it, and the answer names the digests the server needs.
2. ``upload_blob_receive``: the client sends each of those once; the contents are checked
   against their digest as they are stored.
3. ``upload_deploy_publish``: the manifest is recorded over the stored blobs and goes live, the
   same switch every other source ends with.

What the server "has" is scoped to the team: a digest counts as present only when a release of
one of the team's own sites holds it (or it was uploaded for this deployment), never because
another team stored the same contents, so nobody learns or reuses another team's files by
naming their digest. Built on the publishing primitives of ``deployments.services``; views call
this module directly.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from deployments import events
from deployments.blobs import CHUNK, BlobStore, content_type_for
from deployments.logs import log_append
from deployments.models import Blob, Deployment, ManifestEntry
from deployments.paths import manifest_path
from deployments.services import PublishedFile, PublishStats, deployment_activate, manifest_record
from hosting.files.errors import StorageFull
from hosting.files.whole import ContentsChanged, storage_full
from hosting.models import Site

DIGEST = re.compile(r"^[0-9a-f]{64}$")
# A folder deploy whose files never all came is failed after this long.
ABANDONED_AFTER = timedelta(hours=24)


class UploadRefused(ValidationError):
    """Bad input for a folder deploy; ``code`` names it for the API."""

    def __init__(self, message: str, code: str = "VALIDATION_ERROR", details=None):
        super().__init__(message)
        self.error_code = code
        self.details = details or {}


class BlobsMissing(UploadRefused):
    def __init__(self, missing: list[str]):
        super().__init__(
            f"{len(missing)} file(s) of this deploy have not been uploaded yet.",
            "BLOBS_MISSING",
            {"required": missing},
        )
        self.missing = missing


@dataclass(frozen=True)
class UploadStarted:
    deployment: Deployment
    required: list[str]


def _wanted_files(files: dict) -> dict[str, str]:
    if not isinstance(files, dict) or not files:
        raise UploadRefused("Send the files as an object of path -> SHA-256 digest.")
    if len(files) > settings.DEPLOY_MAX_FILES:
        raise UploadRefused(
            f"A deploy holds at most {settings.DEPLOY_MAX_FILES} files; this one has {len(files)}.",
            "DEPLOY_TOO_LARGE",
        )
    wanted: dict[str, str] = {}
    for raw_path, digest in files.items():
        path = manifest_path(raw_path)
        if path in wanted:
            raise UploadRefused(f"“{path}” appears twice.")
        if not isinstance(digest, str) or not DIGEST.match(digest.lower()):
            raise UploadRefused(f"“{path}”: the digest must be 64 hexadecimal digits (SHA-256).")
        wanted[path] = digest.lower()
    return wanted


def _present(*, site: Site, digests: Iterable[str], store: BlobStore) -> set[str]:
    """The digests a release of one of the site's team's sites holds, stored whole."""
    digests = set(digests)
    held = set(
        ManifestEntry.objects.filter(
            blob_id__in=digests, manifest__deployments__site__team_id=site.team_id
        )
        .values_list("blob_id", flat=True)
        .distinct()
    )
    return {
        digest
        for digest, size in Blob.objects.filter(digest__in=held).values_list("digest", "size")
        if store.stored_whole(digest, size)
    }


def upload_deploy_start(
    *, site: Site, files: dict, author=None, activate: bool = True, store: BlobStore | None = None
) -> UploadStarted:
    """Record a folder deploy of ``files`` (path -> digest) waiting for the contents the server
    lacks, and answer which digests those are (each once, sorted)."""
    store = store or BlobStore()
    wanted = _wanted_files(files)
    present = _present(site=site, digests=wanted.values(), store=store)
    now = timezone.now()
    deployment = Deployment.objects.create(
        site=site,
        author=author,
        source=Deployment.Source.UPLOAD,
        status=Deployment.Status.UPLOADING,
        started_at=now,
        upload_files={"files": wanted, "activate": bool(activate)},
        upload_received=[],
    )
    required = sorted(set(wanted.values()) - present)
    log_append(
        deployment.pk,
        f"Deploy of {len(wanted)} files started: {len(required)} to upload, "
        f"{len(set(wanted.values())) - len(required)} already stored.",
    )
    return UploadStarted(deployment=deployment, required=required)


def _uploading(deployment: Deployment) -> None:
    if deployment.status != Deployment.Status.UPLOADING:
        raise UploadRefused(
            f"This deployment is {deployment.get_status_display().lower()}; it takes no more "
            "files.",
            "DEPLOYMENT_NOT_UPLOADING",
        )


def _spool(stream: IO[bytes], limit: int) -> tuple[IO[bytes], str, int]:
    """Copy the request body to a temporary file while hashing it, refusing past ``limit``."""
    spooled = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            spooled.close()
            raise UploadRefused(
                f"A file may be at most {filesizeformat(limit)}.", "PAYLOAD_TOO_LARGE"
            )
        digest.update(chunk)
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, digest.hexdigest(), size


def upload_blob_receive(
    *, deployment: Deployment, digest: str, stream: IO[bytes], store: BlobStore | None = None
) -> int:
    """Store one file of a folder deploy from ``stream``, checked against ``digest`` (which the
    deploy must name); returns its size. Sending the same file twice is harmless."""
    return upload_blobs_receive(deployment=deployment, files=[(digest, stream)], store=store)[0]


def upload_blobs_receive(
    *,
    deployment: Deployment,
    files: list[tuple[str, IO[bytes]]],
    store: BlobStore | None = None,
) -> list[int]:
    """Store several files of a folder deploy at once ((digest, stream) each, as
    ``upload_blob_receive``); answers their sizes. Files stored before one is refused stay
    stored and counted, so the client sends only the rest again."""
    store = store or BlobStore()
    _uploading(deployment)
    paths_of: dict[str, str] = {}
    for path, wanted in deployment.upload_files.get("files", {}).items():
        paths_of.setdefault(wanted, path)
    sizes, stored = [], []
    try:
        for digest, stream in files:
            digest = digest.lower()
            if digest not in paths_of:
                raise UploadRefused(
                    f"This deploy has no file with the digest {digest[:64]}.", "BLOB_NOT_IN_DEPLOY"
                )
            sizes.append(_blob_store(digest, stream, paths_of[digest], store))
            stored.append(digest)
    finally:
        if stored:
            _received(deployment, stored)
    return sizes


def _blob_store(digest: str, stream: IO[bytes], path: str, store: BlobStore) -> int:
    body, actual, size = _spool(stream, settings.SITE_UPLOAD_MAX_FILE_SIZE)
    with body:
        if actual != digest:
            raise UploadRefused(
                f"The contents sent for “{path}” do not match their digest (SHA-256).",
                "DIGEST_MISMATCH",
                {"expected": digest, "received": actual},
            )
        try:
            gz_size, br_size = store.write(digest, body, content_type_for(path), size=size)
        except ContentsChanged as exc:
            raise UploadRefused("The file was stored short; send it again.") from exc
        except StorageFull as exc:
            raise storage_full(f"“{path}”") from exc
    # One statement whether the row exists or not (the contents are the same by definition).
    Blob.objects.bulk_create(
        [Blob(digest=digest, size=size, gzip_size=gz_size, brotli_size=br_size)],
        update_conflicts=True,
        unique_fields=["digest"],
        update_fields=["size", "gzip_size", "brotli_size", "last_used_at"],
    )
    return size


def _received(deployment: Deployment, digests: list[str]) -> None:
    """Record that these digests came for this deploy (what makes them usable by it)."""
    with transaction.atomic():
        locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
        _uploading(locked)
        known = set(locked.upload_received)
        fresh = [d for d in dict.fromkeys(digests) if d not in known]
        if fresh:
            locked.upload_received = [*locked.upload_received, *fresh]
            locked.save(update_fields=["upload_received"])


def upload_deploy_publish(*, deployment: Deployment, store: BlobStore | None = None) -> Deployment:
    """Publish a folder deploy whose files are all stored: its manifest is recorded and, unless
    it was started as a draft, it goes live. Refused with the digests still missing otherwise."""
    store = store or BlobStore()
    _uploading(deployment)
    wanted: dict[str, str] = deployment.upload_files.get("files", {})
    digests = set(wanted.values())
    present = _present(site=deployment.site, digests=digests, store=store)
    received = set(deployment.upload_received)
    sizes = dict(Blob.objects.filter(digest__in=digests).values_list("digest", "size"))
    stored = {d for d in received if d in sizes and store.stored_whole(d, sizes[d])}
    missing = sorted(digests - present - stored)
    if missing:
        raise BlobsMissing(missing)
    total = sum(sizes[d] for d in wanted.values())
    if total > settings.MAX_BUILD_SIZE:
        raise UploadRefused(
            f"The deploy holds {filesizeformat(total)}; at most "
            f"{filesizeformat(settings.MAX_BUILD_SIZE)} may be published.",
            "DEPLOY_TOO_LARGE",
        )
    published = {
        path: PublishedFile(path, digest, sizes[digest], content_type_for(path))
        for path, digest in wanted.items()
    }
    manifest = manifest_record(published)
    uploaded = [d for d in stored if d not in present]
    stats = PublishStats(
        files=len(published),
        bytes_total=manifest.total_size,
        blobs_written=len(uploaded),
        bytes_written=sum(sizes[d] for d in uploaded),
    )
    activate = deployment.upload_files.get("activate", True)
    with transaction.atomic():
        claimed = Deployment.objects.filter(
            pk=deployment.pk, status=Deployment.Status.UPLOADING
        ).update(
            manifest=manifest,
            status=Deployment.Status.SUCCESS,
            finished_at=timezone.now(),
            upload_files={},
            upload_received=[],
        )
        if not claimed:
            deployment.refresh_from_db()
            _uploading(deployment)
        deployment.refresh_from_db()
        deployment.publish_stats = stats
        deployment.went_live = activate and deployment_activate(deployment=deployment)
        events.status_changed(deployment.pk, Deployment.Status.SUCCESS)
    where = "now live" if deployment.went_live else "not made live (a draft)"
    log_append(
        deployment.pk,
        f"Published {stats.files} files ({filesizeformat(stats.bytes_total)}); "
        f"{stats.blobs_written} uploaded ({filesizeformat(stats.bytes_written)}); {where}.",
    )
    return deployment


def uploads_abandon(*, now=None) -> int:
    """Fail folder deploys still waiting for their files after a day; returns how many."""
    cutoff = (now or timezone.now()) - ABANDONED_AFTER
    stale = list(
        Deployment.objects.filter(
            status=Deployment.Status.UPLOADING, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    failed = 0
    for pk in stale:
        with transaction.atomic():
            if Deployment.objects.filter(pk=pk, status=Deployment.Status.UPLOADING).update(
                status=Deployment.Status.FAILED,
                error="The upload was never finished.",
                finished_at=timezone.now(),
                upload_files={},
                upload_received=[],
            ):
                events.status_changed(pk, Deployment.Status.FAILED)
                failed += 1
    return failed
