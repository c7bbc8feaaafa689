"""Publishing, activating and rolling back deployments: the one path every source ends on.

Uploads from the file manager, git builds and editor pages all call ``deployment_publish``
with a list of files; it writes only blobs not yet stored, records a manifest and, when asked,
switches the site's live pointer in one UPDATE (concurrent requests see the old release or
the new one, never a mix).

It is also the door to the app's other writes, kept in their own modules by concept and
re-exported here: ``builds`` (git deployments as job records), ``projects`` (a site's git
source and build settings) and ``connections`` (GitHub). Views, the API and the admin import
``deployments.services`` only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from deployments.blobs import BlobStore, content_type_for, hash_stream
from deployments.builds import (  # noqa: F401  (re-exported)
    build_claim,
    builds_reap,
    deployment_build_queue,
    deployment_cancel,
    deployment_create,
    deployment_delete,
    deployment_deploy_latest,
    deployment_redeploy,
)
from deployments.connections import (  # noqa: F401  (re-exported)
    github_authorize_url,
    github_configured,
    github_disconnect,
    github_repo_find,
    github_repos,
    webhook_push_receive,
)
from deployments.models import Blob, Deployment, Manifest, ManifestEntry
from deployments.paths import manifest_path
from deployments.projects import (  # noqa: F401  (re-exported)
    project_cache_clear,
    project_env,
    project_save,
    project_update,
)
from deployments.signals import live_deployment_changed
from hosting.files.errors import StorageFull
from hosting.files.whole import ContentsChanged, storage_full
from hosting.models import Site

log = logging.getLogger(__name__)

Opener = Callable[[], IO[bytes]]


@dataclass(frozen=True)
class PublishedFile:
    path: str
    digest: str
    size: int
    content_type: str


@dataclass(frozen=True)
class PublishStats:
    files: int
    bytes_total: int
    blobs_written: int
    bytes_written: int


def directory_files(root: Path) -> list[tuple[str, Opener]]:
    """Every regular file under ``root`` as (relative path, opener); symlinks are refused."""
    root = root.resolve()
    files: list[tuple[str, Opener]] = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            rel = path.relative_to(root)
            raise ValidationError(f"“{rel}” is a symbolic link; links are not published.")
        if path.is_file():
            files.append((path.relative_to(root).as_posix(), _opener(path)))
    return files


def _opener(path: Path) -> Opener:
    return lambda: path.open("rb")


def manifest_create(files: Iterable[tuple[str, Opener]], *, store: BlobStore | None = None):
    """Hash every file, store the blobs not yet stored, and return (manifest, stats)."""
    store = store or BlobStore()
    openers: dict[str, Opener] = {}
    for raw_path, opener in files:
        path = manifest_path(raw_path)
        if path in openers:
            raise ValidationError(f"“{path}” appears twice.")
        openers[path] = opener
    if not openers:
        raise ValidationError("There are no files to publish.")

    published: dict[str, PublishedFile] = {}
    for path, opener in openers.items():
        with opener() as stream:
            digest, size = hash_stream(stream)
        published[path] = PublishedFile(path, digest, size, content_type_for(path))

    digests = {f.digest for f in published.values()}
    first_path = {}
    for f in published.values():
        first_path.setdefault(f.digest, f)
    # A blob counts as stored only if its file is there whole (one cut short by a full disk
    # or lost from the disk is written again).
    known = {
        digest
        for digest, size in Blob.objects.filter(digest__in=digests).values_list("digest", "size")
        if store.stored_whole(digest, size)
    }
    blobs_written = bytes_written = 0
    for digest in sorted(digests - known):
        info = first_path[digest]
        with openers[info.path]() as stream:
            try:
                gz_size, br_size = store.write(digest, stream, info.content_type, size=info.size)
            except ContentsChanged as exc:
                raise ValidationError(
                    f"“{info.path}” changed while it was being published; publish again."
                ) from exc
            except StorageFull as exc:
                raise storage_full(f"“{info.path}”") from exc
        Blob.objects.update_or_create(
            digest=digest,
            defaults={"size": info.size, "gzip_size": gz_size, "brotli_size": br_size},
        )
        blobs_written += 1
        bytes_written += info.size
    manifest = manifest_record(published)
    stats = PublishStats(
        files=len(published),
        bytes_total=manifest.total_size,
        blobs_written=blobs_written,
        bytes_written=bytes_written,
    )
    return manifest, stats


def manifest_record(published: dict[str, PublishedFile]) -> Manifest:
    """The manifest of files whose blobs are stored (path -> file), made once per content."""
    # Touch reused blobs so garbage collection leaves them alone while this publish finishes.
    digests = {f.digest for f in published.values()}
    Blob.objects.filter(digest__in=digests).update(last_used_at=timezone.now())

    listing = "\n".join(f"{p}\0{published[p].digest}" for p in sorted(published))
    manifest_digest = hashlib.sha256(listing.encode()).hexdigest()
    with transaction.atomic():
        manifest, created = Manifest.objects.get_or_create(
            digest=manifest_digest,
            defaults={
                "file_count": len(published),
                "total_size": sum(f.size for f in published.values()),
            },
        )
        if created:
            ManifestEntry.objects.bulk_create(
                [
                    ManifestEntry(
                        manifest=manifest,
                        path=f.path,
                        blob_id=f.digest,
                        size=f.size,
                        content_type=f.content_type,
                    )
                    for f in published.values()
                ],
                batch_size=500,
            )
    return manifest


def deployment_publish(
    *,
    site: Site,
    files: Iterable[tuple[str, Opener]],
    source: str,
    author=None,
    deployment: Deployment | None = None,
    activate: bool = True,
) -> Deployment:
    """Publish files as a new immutable deployment of ``site`` (and make it live).

    Pass ``deployment`` to complete one created earlier (a queued build); otherwise a new one is
    recorded. An empty file list is refused.

    A build that completes goes live only if nothing newer went live while it ran: a rollback,
    or a deploy queued after it, pins the site until the user deploys again or promotes this
    one (``deployment.went_live`` says which happened).
    """
    started = timezone.now()
    completing = deployment is not None
    manifest, stats = manifest_create(files)
    with transaction.atomic():
        if deployment is None:
            deployment = Deployment.objects.create(
                site=site, author=author, source=source, started_at=started
            )
        deployment.manifest = manifest
        deployment.status = Deployment.Status.SUCCESS
        deployment.started_at = deployment.started_at or started
        deployment.finished_at = timezone.now()
        deployment.save(update_fields=["manifest", "status", "started_at", "finished_at"])
        deployment.publish_stats = stats
        deployment.went_live = False
        if activate:
            deployment.went_live = deployment_activate(
                deployment=deployment, unless_newer_is_live=completing
            )
    log.info(
        "Published %s: %d files, %d new blobs (%d bytes written)",
        deployment,
        stats.files,
        stats.blobs_written,
        stats.bytes_written,
    )
    return deployment


def deployment_activate(*, deployment: Deployment, unless_newer_is_live: bool = False) -> bool:
    """Make a successful deployment the live one: a single UPDATE of the site's pointer.

    With ``unless_newer_is_live`` (a build completing) nothing changes when the live release was
    created after this deployment: builds finish out of order, and a rollback made while a build
    ran must not be undone by it. Returns whether the deployment is now live."""
    if deployment.status != Deployment.Status.SUCCESS or deployment.manifest_id is None:
        raise ValidationError("Only a successful deployment can go live.")
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=deployment.site_id)
        if unless_newer_is_live and site.live_deployment_id is not None:
            live_created = (
                Deployment.objects.filter(pk=site.live_deployment_id)
                .values_list("created_at", flat=True)
                .first()
            )
            if live_created is not None and live_created > deployment.created_at:
                return False
        fields = {"live_deployment": deployment, "updated_at": timezone.now()}
        if site.status in (Site.Status.PROVISIONING, Site.Status.ERROR):
            fields["status"] = Site.Status.ONLINE
        Site.objects.filter(pk=site.pk).update(**fields)
        transaction.on_commit(
            lambda: live_deployment_changed.send(
                sender=Site, site_id=site.pk, deployment_id=deployment.pk
            )
        )
    return True


def deployment_mark_damaged(*, deployment_id, path: str) -> bool:
    """Record that a file of a release could not be read when served (its blob is missing or
    unreadable); the site's page then asks for a redeploy. True the first time only."""
    marked = Deployment.objects.filter(pk=deployment_id, damaged_path="").update(
        damaged_path=path[:1000]
    )
    return bool(marked)


def deployment_rollback(*, deployment: Deployment, author=None) -> Deployment:
    """Restore an earlier deployment's files at once; recorded as a new ``rollback`` deployment."""
    if deployment.status != Deployment.Status.SUCCESS or deployment.manifest_id is None:
        raise ValidationError("Only a successful deployment can be restored.")
    now = timezone.now()
    with transaction.atomic():
        restored = Deployment.objects.create(
            site=deployment.site,
            author=author,
            source=Deployment.Source.ROLLBACK,
            status=Deployment.Status.SUCCESS,
            manifest_id=deployment.manifest_id,
            restored_from=deployment,
            started_at=now,
            finished_at=now,
        )
        deployment_activate(deployment=restored)
    return restored


def blobs_collect_garbage(*, grace: timedelta = timedelta(hours=1), store: BlobStore | None = None):
    """Delete manifests no deployment uses and blobs no manifest uses, older than ``grace``.

    Rows go first (the PROTECT foreign keys refuse to delete anything still referenced), then
    the stored files of the rows actually deleted. Returns (manifests, blobs) deleted.
    """
    store = store or BlobStore()
    cutoff = timezone.now() - grace
    orphans = Manifest.objects.filter(created_at__lt=cutoff).exclude(
        Exists(Deployment.objects.filter(manifest=OuterRef("pk")))
    )
    manifests_deleted = 0
    for manifest in orphans.iterator():
        manifest.delete()
        manifests_deleted += 1

    blobs_deleted = 0
    unused = Blob.objects.filter(last_used_at__lt=cutoff).exclude(
        Exists(ManifestEntry.objects.filter(blob=OuterRef("pk")))
    )
    for digest in list(unused.values_list("digest", flat=True)):
        with transaction.atomic():
            deleted, _ = (
                Blob.objects.filter(digest=digest, last_used_at__lt=cutoff)
                .exclude(Exists(ManifestEntry.objects.filter(blob=OuterRef("pk"))))
                .delete()
            )
        if deleted:
            store.delete(digest)
            blobs_deleted += 1
    return manifests_deleted, blobs_deleted


def previews_expire(*, now=None) -> int:
    """Remove previews whose newest build finished more than ``PREVIEW_EXPIRE_DAYS`` ago (0
    keeps them): their deployments stay, their ``<preview>--<slug>`` address stops answering.
    Returns how many previews were removed."""
    from django.conf import settings
    from django.db.models import Max

    from hosting.hostnames import hostnames_changed

    days = settings.PREVIEW_EXPIRE_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    stale = (
        Deployment.objects.exclude(preview="")
        .values("site_id", "preview")
        .annotate(newest=Max("created_at"))
        .filter(newest__lt=cutoff)
    )
    removed = 0
    for row in stale:
        with transaction.atomic():
            Deployment.objects.filter(site_id=row["site_id"], preview=row["preview"]).update(
                preview=""
            )
            site_id = row["site_id"]
            transaction.on_commit(
                lambda s=site_id: hostnames_changed.send(sender=Deployment, site_id=s)
            )
        removed += 1
    if removed:
        log.info("Removed %d expired preview(s)", removed)
    return removed


def preview_remove(*, site: Site, name: str) -> int:
    """Remove a site's preview: its address stops answering; its deployments stay (each keeps
    its own address). Returns how many deployments were built as it (0: no such preview)."""
    return _preview_remove(site_id=site.pk, label=name)


def deployment_promote(*, deployment: Deployment, author=None) -> Deployment:
    """Make a preview (or any successful deployment) production: the pointer switch of a
    rollback, recorded the same way, with no rebuild."""
    return deployment_rollback(deployment=deployment, author=author)


def _preview_remove(*, site_id, label: str) -> int:
    from hosting.hostnames import hostnames_changed

    with transaction.atomic():
        removed = Deployment.objects.filter(site_id=site_id, preview=label).update(preview="")
        transaction.on_commit(lambda: hostnames_changed.send(sender=Deployment, site_id=site_id))
    return removed


def previews_reconcile() -> int:
    """Remove branch previews whose branch is gone from the repository (``git ls-remote``),
    for when the push that deleted it was never delivered. A repository that cannot be read
    removes nothing. Returns how many previews were removed."""
    from deployments import remotes
    from deployments.models import Project
    from deployments.projects import RepositorySource, source_token

    removed = 0
    for project in Project.objects.exclude(preview_branches="").select_related("owner"):
        labels = dict(
            Deployment.objects.filter(site_id=project.site_id, project=project)
            .exclude(preview="")
            .exclude(preview__startswith="pr-")
            .values_list("preview", "branch")
            .distinct()
        )
        if not labels:
            continue
        source = RepositorySource(
            name=project.name, repository=project.repository, clone_url=project.clone_url
        )
        try:
            token = source_token(user=project.owner, source=source) if project.owner else ""
            heads = remotes.branches_list(project.clone_url, token=token).heads
        except (remotes.RemoteError, ValidationError) as exc:
            log.info("Previews of %s not reconciled: %s", project.repository, exc)
            continue
        for label, branch in labels.items():
            if branch not in heads:
                _preview_remove(site_id=project.site_id, label=label)
                removed += 1
    return removed
