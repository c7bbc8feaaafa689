"""A site backup as a ``.tar.gz``, streamed: ``restic dump`` writes the snapshot's folder as a
tar archive, read member by member as it arrives, renamed under one top folder, and gzipped
chunk by chunk — never built in memory or on disk. A failure after the first byte ends the
stream without gzip's trailer, so the client sees a broken download, never a short archive
that looks whole."""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from backups import restic
from backups.models import Backup, Repository
from teams.audit import audit_record

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Archive:
    filename: str
    chunks: Iterator[bytes]


class DownloadUnavailable(Exception):
    """The repository could not be read (restic's reason)."""


def backup_archive(*, backup: Backup, user=None) -> Archive:
    """The backup as a streamed ``.tar.gz``. ValidationError when the backup has nothing to
    download; DownloadUnavailable when its repository cannot be read. Both are raised before
    the first byte."""
    if backup.state != Backup.State.SUCCEEDED or not backup.snapshot_id:
        raise ValidationError("Only a backup that succeeded can be downloaded.", code="state")
    repo = Repository.objects.filter(team_id=backup.site.team_id).first()
    if repo is None or repo.initialized_at is None:
        raise ValidationError("This backup's repository does not exist.", code="gone")
    try:
        found = restic.snapshots(repo.location, repo.password, backup.snapshot_id)
    except restic.ResticError as exc:
        raise DownloadUnavailable(str(exc)) from exc
    if not found or not found[-1].get("paths"):
        raise ValidationError("This backup's snapshot is no longer in the repository.", code="gone")
    root = found[-1]["paths"][0]
    top = f"{backup.site.slug}-backup-{backup.created_at:%Y%m%d-%H%M%S}"
    if user is not None:
        audit_record(
            team=backup.site.team,
            actor=user,
            action="backup.download",
            obj=backup.site,
            details={"backup": str(backup.pk)},
        )
    return Archive(
        filename=f"{top}.tar.gz",
        chunks=_gzipped_tar(repo, backup.snapshot_id, root, top),
    )


def _renamed(member: tarfile.TarInfo, prefix: str, top: str) -> tarfile.TarInfo | None:
    name = member.name.rstrip("/")
    if name == prefix:
        rest = ""
    elif name.startswith(prefix + "/"):
        rest = name[len(prefix) + 1 :]
    else:
        return None
    member.name = f"{top}/{rest}" if rest else top
    if member.islnk() and member.linkname.startswith(prefix + "/"):
        member.linkname = f"{top}/{member.linkname[len(prefix) + 1 :]}"
    return member


def _gzipped_tar(repo: Repository, snapshot_id: str, root: str, top: str) -> Iterator[bytes]:
    process = restic.dump_process(repo.location, repo.password, snapshot_id, root)
    gzip = zlib.compressobj(6, zlib.DEFLATED, 31)
    prefix = root.strip("/")
    out = bytearray()
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as source:
            for member in source:
                renamed = _renamed(member, prefix, top)
                if renamed is None:
                    continue
                out += gzip.compress(renamed.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
                if renamed.isreg():
                    stream = source.extractfile(member)
                    while data := stream.read(CHUNK):
                        out += gzip.compress(data)
                        if len(out) >= CHUNK:
                            yield bytes(out)
                            out.clear()
                    if remainder := renamed.size % tarfile.BLOCKSIZE:
                        out += gzip.compress(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))
                if len(out) >= CHUNK:
                    yield bytes(out)
                    out.clear()
        while process.stdout.read(CHUNK):  # the end-of-archive blocks tarfile did not read
            pass
        process.stdout.close()
        if process.wait() != 0:
            said = process.stderr.read().decode(errors="replace").strip()[-500:]
            raise restic.ResticError(f"restic dump failed (exit {process.returncode}): {said}")
        out += gzip.compress(tarfile.NUL * (tarfile.BLOCKSIZE * 2))
        yield bytes(out) + gzip.flush()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def archive_response(archive: Archive, request) -> StreamingHttpResponse:
    """The HTTP answer that streams ``archive`` as a download (HTML page and API alike). Under
    ASGI (daphne, the embedded default) the chunks go out as an async iterator: Django would
    otherwise read a sync iterator whole into memory before sending a byte."""
    chunks = archive.chunks
    if isinstance(getattr(request, "_request", request), ASGIRequest):
        chunks = _one_at_a_time(chunks)
    response = StreamingHttpResponse(chunks, content_type="application/gzip")
    response["Content-Disposition"] = content_disposition_header(True, archive.filename)
    response["Cache-Control"] = "no-store"
    return response


async def _one_at_a_time(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Each chunk made in a worker thread as the client takes it; closing (a client that went
    away) closes the generator, which stops restic."""
    end = object()
    try:
        while (chunk := await sync_to_async(next, thread_sensitive=False)(chunks, end)) is not end:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=False)()
