"""A full disk under the site files and the blob store (a small tmpfs the test mounts).

An upload or a deploy that runs out of space answers 507 STORAGE_FULL, keeps nothing of what
it was writing (no cut-short file, in the site or in the blob store), leaves the live release
and any file it was replacing as they were, and the site's storage count stays exact.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from controlpanel.settings import file_storages
from deployments.blobs import BlobStore
from deployments.models import Deployment
from deployments.tests.faults import SmallDisk
from hosting.files.quota import files_total
from hosting.models import Site
from hosting.tests.test_api_files import files_url, put

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


@pytest.fixture
def small_disk(settings):
    disk = SmallDisk(2 * MiB)
    settings.MEDIA_ROOT = disk.path
    settings.STORAGES = {**settings.STORAGES, **file_storages(disk.path)}
    yield disk
    disk.close()


def exact_usage(site) -> int:
    """The site's counted storage, checked against the files really there."""
    site.refresh_from_db()
    _, total = files_total(site=site)
    assert site.storage_used == total
    return total


def storage_full(answer) -> str:
    assert answer.status_code == 507, answer.content
    error = answer.json()["error"]
    assert error["code"] == "STORAGE_FULL" and error["statusCode"] == 507
    assert "disk is full" in error["message"]
    return error["message"]


def test_an_upload_that_fills_the_disk_keeps_nothing(small_disk, api, site):
    page = b"<h1>v1</h1>"
    assert put(api, site, {"index.html": page}).status_code == 201
    before = small_disk.files()

    # A small file and one larger than the disk, in one upload: all or nothing.
    answer = put(api, site, {"notes.txt": b"written first", "big.bin": os.urandom(4_000_000)})
    assert "“big.bin”" in storage_full(answer)
    assert small_disk.files() == before, "a partial or orphaned file was kept"
    listing = api.get(files_url(site)).json()
    assert [f["name"] for f in listing["files"]] == ["index.html"]
    assert exact_usage(site) == len(page)

    # Replacing a file with one that does not fit leaves the old one whole.
    storage_full(put(api, site, {"index.html": os.urandom(4_000_000)}))
    assert api.get(files_url(site), {"path": "index.html"}).getvalue() == page
    assert small_disk.files() == before
    assert exact_usage(site) == len(page)


def test_a_deploy_that_fills_the_disk_keeps_the_live_release(small_disk, api, site):
    deploy_url = f"/api/hosting/spaces/{site.pk}/deploy"
    assert put(api, site, {"index.html": b"<h1>v1</h1>"}).status_code == 201
    assert api.post(deploy_url).status_code == 201
    live = Site.objects.get(pk=site.pk).live_deployment_id
    data = os.urandom(int(1.2 * MiB))  # fits once (the site's file), not twice (its blob too)
    assert put(api, site, {"photo.bin": data}).status_code == 201
    before, deployments = small_disk.files(), Deployment.objects.count()

    assert "“photo.bin”" in storage_full(api.post(deploy_url))
    assert small_disk.files() == before, "a cut-short blob was kept"
    assert Site.objects.get(pk=site.pk).live_deployment_id == live
    assert Deployment.objects.count() == deployments
    assert exact_usage(site) == len(b"<h1>v1</h1>") + len(data)

    # The operator makes room: the same deploy now goes through, and the blob is whole.
    small_disk.resize(8 * MiB)
    answer = api.post(deploy_url)
    assert answer.status_code == 201, answer.json()
    digest = hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(BlobStore().read(digest)).hexdigest() == digest
    assert Site.objects.get(pk=site.pk).live_deployment_id != live


def test_a_blob_cut_short_earlier_is_written_again(small_disk, api, site):
    """A blob file shorter than its record (cut by a crash before this fix) is not trusted:
    the next publish writes it again whole."""
    data = b"body { color: teal }\n" * 100
    assert put(api, site, {"site.css": data}).status_code == 201
    assert api.post(f"/api/hosting/spaces/{site.pk}/deploy").status_code == 201
    digest = hashlib.sha256(data).hexdigest()
    path = BlobStore().local_path(digest)
    path.write_bytes(data[:100])
    assert api.post(f"/api/hosting/spaces/{site.pk}/deploy").status_code == 201
    assert path.read_bytes() == data


@pytest.fixture
def full_temp(settings):
    """The temporary folder uploads are spooled to, on a disk smaller than the upload."""
    disk = SmallDisk(2 * MiB)
    settings.FILE_UPLOAD_TEMP_DIR = str(disk.path)
    yield disk
    disk.close()


def test_an_upload_whose_temporary_file_fills_the_disk_answers_507(full_temp, api, site):
    # Larger than FILE_UPLOAD_MAX_MEMORY_SIZE: spooled to the temporary folder, which fills.
    data = os.urandom(6 * MiB)
    answer = put(api, site, {"notes.txt": b"received whole first", "big.bin": data})
    assert "“big.bin”" in storage_full(answer)
    assert full_temp.files() == {}, "a partly written temporary file was kept"
    assert api.get(files_url(site)).json()["files"] == []
    assert exact_usage(site) == 0

    # With room in the temporary folder the same upload goes through, whole.
    full_temp.resize(16 * MiB)
    again = put(api, site, {"notes.txt": b"received whole first", "big.bin": data})
    assert again.status_code == 201, again.content
    assert api.get(files_url(site), {"path": "big.bin"}).getvalue() == data
    assert full_temp.files() == {}


def test_a_page_upload_that_fills_the_temporary_folder_says_so(full_temp, web, site):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    upload_url = reverse("hosting:files-upload", args=[site.pk])
    form = {"folder": "", "file": SimpleUploadedFile("video.mp4", os.urandom(6 * MiB))}
    page = web.post(upload_url, form)
    assert page.status_code == 507
    assert "disk is full" in page.text and "“video.mp4”" in page.text
    form["file"].seek(0)
    assert "“video.mp4”" in storage_full(web.post(upload_url, form, HTTP_ACCEPT="application/json"))
    assert full_temp.files() == {}
    assert exact_usage(site) == 0


def test_an_asgi_request_body_spooled_to_a_full_disk_answers_507(full_temp, site):
    """Under ASGI (the embedded server) Django first spools the whole body to a temporary
    file; a full disk there is the same 507, and nothing is left behind."""
    from asgiref.sync import async_to_sync
    from asgiref.testing import ApplicationCommunicator

    from hosting.files.uploadtemp import BodySpooledASGIHandler

    body = os.urandom(6 * MiB)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": files_url(site),
        "raw_path": files_url(site).encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"multipart/form-data; boundary=x"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def post():
        app = ApplicationCommunicator(BodySpooledASGIHandler(), scope)
        chunk = 256 * 1024
        for start in range(0, len(body), chunk):
            more = start + chunk < len(body)
            await app.send_input(
                {"type": "http.request", "body": body[start : start + chunk], "more_body": more}
            )
        start = await app.receive_output(30)
        content = await app.receive_output(30)
        await app.wait(5)
        return start, content

    start, content = async_to_sync(post)()
    assert start["status"] == 507
    error = json.loads(content["body"])["error"]
    assert error["code"] == "STORAGE_FULL" and "disk is full" in error["message"]
    assert full_temp.files() == {}
