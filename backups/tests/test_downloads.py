"""Downloading a site backup as a .tar.gz: streamed from restic dump, holding the site's files
byte for byte under one top folder; team-scoped, refused for viewers, and refused with a
reason when there is nothing to download."""

from __future__ import annotations

import io
import os
import tarfile
import warnings

import psutil
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from backups import restic, services
from backups.downloads import backup_archive
from backups.models import Backup
from backups.tests.conftest import FILES, files_of, site_with_files
from conftest import bearer_client
from hosting.files.backends import tree_for
from teams.models import AuditEvent, Membership, Role

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.fixture
def backed_up(alice):
    site = site_with_files(alice)
    backup = Backup.objects.create(site=site)
    backup = services.backup_run(backup_id=backup.pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    return site, backup


def unpack(response) -> dict[str, bytes]:
    assert response.streaming  # never built in memory
    body = b"".join(response.streaming_content)
    out = {}
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        for member in archive:
            if member.isfile():
                out[member.name] = archive.extractfile(member).read()
    return out


def test_the_api_streams_the_backup_as_a_tar_gz(backed_up, api, alice):
    site, backup = backed_up
    response = api.get(f"/api/sites/{site.pk}/backups/{backup.pk}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    top = f"{site.slug}-backup-{backup.created_at:%Y%m%d-%H%M%S}"
    assert response["Content-Disposition"] == f'attachment; filename="{top}.tar.gz"'
    files = unpack(response)
    for path, content in FILES.items():
        assert files[f"{top}/files/{path}"] == content
    assert f"{top}/berth/manifest.json" in files and f"{top}/berth/editor.json" in files
    assert all(name.startswith(f"{top}/") for name in files)
    assert AuditEvent.objects.filter(action="backup.download", actor=alice).exists()


def test_the_backups_tab_links_a_download_that_streams(backed_up, web):
    site, backup = backed_up
    page = web.get(f"/sites/{site.pk}/backups/").content.decode()
    url = f"/sites/{site.pk}/backups/{backup.pk}/download/"
    assert url in page
    files = unpack(web.get(url))
    assert sorted(name.split("/", 1)[1] for name in files if "/files/" in name) == sorted(
        f"files/{p}" for p in FILES
    )


def test_another_team_gets_404_and_a_viewer_403(backed_up, alice, bob):
    site, backup = backed_up
    url = f"/api/sites/{site.pk}/backups/{backup.pk}/download"
    assert bearer_client(bob).get(url).status_code == 404
    Membership.objects.create(team=site.team, user=bob, role=Role.VIEWER)
    answer = bearer_client(bob).get(url)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "FORBIDDEN"


def test_a_failed_backup_or_a_forgotten_snapshot_is_not_downloadable(backed_up, api):
    site, backup = backed_up
    failed = Backup.objects.create(site=site, state=Backup.State.FAILED, reason="restic failed")
    answer = api.get(f"/api/sites/{site.pk}/backups/{failed.pk}/download")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "NOT_DOWNLOADABLE"

    repo = services.repository_for(site.team)
    restic.forget(repo.location, repo.password, backup.snapshot_id)
    answer = api.get(f"/api/sites/{site.pk}/backups/{backup.pk}/download")
    assert answer.status_code == 409
    assert "no longer in the repository" in answer.json()["error"]["message"]


def test_a_backup_of_many_chunks_downloads_whole(backup_root, alice, api):
    """Larger than the stream's chunks: every byte arrives, in order, gzip's trailer last."""
    site = site_with_files(alice)
    tree = tree_for(site.pk)
    expected = dict(FILES)
    for n in range(300):  # incompressible, and padded to tar's 512-byte blocks
        content = os.urandom(1_100)
        tree.save(f"media/clip-{n}.bin", io.BytesIO(content))
        expected[f"media/clip-{n}.bin"] = content
    tree.save("media/film.bin", io.BytesIO(os.urandom(300_000)))  # several reads of its own
    expected["media/film.bin"] = files_of(site)["media/film.bin"]
    backup = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    response = api.get(f"/api/sites/{site.pk}/backups/{backup.pk}/download")
    files = unpack(response)
    got = {name.split("/files/", 1)[1]: data for name, data in files.items() if "/files/" in name}
    assert sorted(got) == sorted(expected)
    assert [p for p in expected if got[p] != expected[p]] == []


@pytest.mark.django_db(transaction=True)  # the ASGI handler's thread sees committed rows
def test_under_asgi_the_download_streams_without_being_read_whole_first(backed_up, alice):
    """daphne (the embedded default) serves through Django's ASGI handler, which reads a sync
    iterator whole into memory (with a warning) before sending: the download is async there."""
    site, backup = backed_up

    async def download():
        client = AsyncClient()
        await client.aforce_login(alice)
        response = await client.get(f"/sites/{site.pk}/backups/{backup.pk}/download/")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            body = b"".join([part async for part in response])
        return response, body, [str(w.message) for w in caught]

    response, body, caught = async_to_sync(download)()
    assert response.status_code == 200 and response.is_async
    assert not [w for w in caught if "must consume synchronous iterators" in w]
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        names = {m.name.split("/", 1)[1] for m in archive if m.isfile()}
    assert {f"files/{p}" for p in FILES} <= names


def test_a_download_abandoned_midway_stops_restic(backup_root, alice):
    site = site_with_files(alice)
    tree_for(site.pk).save("big.bin", io.BytesIO(os.urandom(2_000_000)))
    backup = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    chunks = backup_archive(backup=backup).chunks
    assert next(chunks)  # restic dump is running, the client takes one chunk and leaves
    assert any("restic" in child.name() for child in psutil.Process().children())
    chunks.close()
    assert not any("restic" in child.name() for child in psutil.Process().children())
