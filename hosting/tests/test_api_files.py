"""Files and deployments over the API (Alt Production Hosting's paths), on local storage and on
S3 (moto server)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import bearer_client
from deployments.blobs import BlobStore
from deployments.models import Deployment
from hosting.models import Site
from hosting.tests.conftest import make_zip

pytestmark = pytest.mark.django_db


def files_url(site, suffix=""):
    return f"/api/hosting/spaces/{site.pk}/files{suffix}"


def put(api, site, mapping, **extra):
    return api.post(
        files_url(site),
        {
            "file": [SimpleUploadedFile(n.rsplit("/")[-1], d) for n, d in mapping.items()],
            "paths": json.dumps(list(mapping)),
            **extra,
        },
        format="multipart",
    )


def test_upload_list_download_and_delete(storage_backend, api, site):
    answer = api.post(
        files_url(site),
        {
            "file": [
                SimpleUploadedFile("index.html", b"<h1>x</h1>"),
                SimpleUploadedFile("a.css", b"a{}"),
            ],
            "path": "web",
        },
        format="multipart",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["path"] == "web" and body["bytes"] == 13
    assert {f["path"] for f in body["files"]} == {"web/index.html", "web/a.css"}
    assert body["storage"] == {"used": 13, "total": site.storage_limit}

    root = api.get(files_url(site)).json()
    assert root["path"] == "" and [f["name"] for f in root["files"]] == ["web"]
    assert root["files"][0]["type"] == "folder"
    listed = api.get(files_url(site), {"path": "web"}).json()
    assert [(f["name"], f["type"], f["size"]) for f in listed["files"]] == [
        ("a.css", "file", 3),
        ("index.html", "file", 10),
    ]
    assert listed["files"][1]["contentType"] == "text/html; charset=utf-8"
    assert listed["pagination"]["totalItems"] == 2
    # The same folder as a path parameter; a file path sends the file.
    assert api.get(files_url(site, "/web")).json()["files"] == listed["files"]
    download = api.get(files_url(site, "/web/index.html"))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"<h1>x</h1>"

    deleted = api.delete(files_url(site), QUERY_STRING="path=web/a.css")
    assert deleted.status_code == 200 and deleted.json()["deleted"]["bytes"] == 3
    assert api.delete(files_url(site, "/web")).json()["storage"]["used"] == 0
    missing = api.delete(files_url(site, "/web"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "FILE_NOT_FOUND"


def test_zip_upload_with_extract(storage_backend, api, site):
    archive = make_zip({"index.html": b"<p>z</p>", "js/app.js": b"1"})
    answer = api.post(
        files_url(site) + "?extract=true",
        {"file": SimpleUploadedFile("site.zip", archive)},
        format="multipart",
    )
    assert answer.status_code == 201
    assert sorted(f["path"] for f in answer.json()["files"]) == ["index.html", "js/app.js"]
    slip = make_zip({"../../escape.html": b"x"})
    answer = api.post(
        files_url(site),
        {"file": SimpleUploadedFile("s.zip", slip), "extract": "true"},
        format="multipart",
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "PATH_INVALID"


def test_errors_use_the_envelope_with_domain_codes(api, site, settings):
    Site.objects.filter(pk=site.pk).update(storage_limit=10)
    over = put(api, site, {"a.txt": b"123456", "b.txt": b"123456"})
    assert over.status_code == 413
    error = over.json()["error"]
    assert error["code"] == "QUOTA_EXCEEDED" and error["statusCode"] == 413
    assert error["details"] == {"needed": 12, "available": 10, "limit": 10}
    assert api.get(files_url(site)).json()["files"] == []

    bad = put(api, site, {"../x.txt": b"1"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "PATH_INVALID"
    bad = api.get(files_url(site), {"path": "/etc"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "PATH_INVALID"
    assert api.get(files_url(site), {"path": "nope"}).json()["error"]["code"] == "FILE_NOT_FOUND"
    empty = api.post(files_url(site), {}, format="multipart")
    assert empty.status_code == 422

    settings.SITE_UPLOAD_MAX_REQUEST_SIZE = 1
    big = api.post(
        files_url(site),
        {"file": SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 4096))},
        format="multipart",
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_too_many_files_in_one_request(api, site, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    answer = put(api, site, {f"{i}.txt": b"x" for i in range(3)})
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_rename_move_and_folders(api, site):
    put(api, site, {"a.txt": b"a"})
    made = api.post(f"/api/hosting/spaces/{site.pk}/folders", {"path": "docs/old"}, format="json")
    assert made.status_code == 201 and made.json()["path"] == "docs/old"
    renamed = api.patch(files_url(site) + "?path=a.txt", {"name": "b.txt"}, format="json")
    assert renamed.json() == {"path": "b.txt"}
    moved = api.patch(files_url(site, "/b.txt"), {"to": "docs"}, format="json")
    assert moved.json() == {"path": "docs/b.txt"}
    clash = api.patch(files_url(site, "/docs/b.txt"), {"name": "old"}, format="json")
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "PATH_CONFLICT"


def test_files_list_is_paginated(api, site, django_assert_max_num_queries):
    put(api, site, {f"f{i:02}.txt": b"x" for i in range(25)})
    with django_assert_max_num_queries(4):
        page = api.get(files_url(site), {"limit": 10, "page": 3}).json()
    assert [f["name"] for f in page["files"]] == [f"f{i:02}.txt" for i in range(20, 25)]
    assert page["pagination"] == {"currentPage": 3, "totalPages": 3, "totalItems": 25, "limit": 10}


def test_deploy_list_and_rollback(storage_backend, api, site, alice, django_assert_max_num_queries):
    nothing = api.post(f"/api/hosting/spaces/{site.pk}/deploy")
    assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "NOTHING_TO_DEPLOY"
    put(api, site, {"index.html": b"<h1>one</h1>"})
    first = api.post(f"/api/hosting/spaces/{site.pk}/deploy")
    assert first.status_code == 201, first.json()
    one = first.json()
    assert one["status"] == "success" and one["isLive"] is True and one["source"] == "upload"
    assert one["url"] == site.url and one["files"] == 1 and one["stats"]["blobsWritten"] == 1
    assert one["author"]["email"] == alice.email
    put(api, site, {"index.html": b"<h1>two</h1>"})
    two = api.post(f"/api/hosting/spaces/{site.pk}/deploy").json()
    site.refresh_from_db()
    assert site.status == "online" and str(site.live_deployment_id) == two["id"]

    with django_assert_max_num_queries(6):
        listed = api.get(f"/api/hosting/spaces/{site.pk}/deployments").json()
    assert [d["id"] for d in listed["deployments"]] == [two["id"], one["id"]]
    assert [d["isLive"] for d in listed["deployments"]] == [True, False]
    assert listed["pagination"]["totalItems"] == 2

    rolled = api.post(f"/api/deployments/{one['id']}/rollback")
    assert rolled.status_code == 201
    restored = rolled.json()
    assert restored["source"] == "rollback" and restored["restoredFrom"] == one["id"]
    assert restored["isLive"] is True
    live = Deployment.objects.get(pk=restored["id"])
    entry = live.manifest.entries.get(path="index.html")
    assert BlobStore().read(entry.blob_id) == b"<h1>one</h1>"


def test_rollback_refuses_failed_deployments(api, site):
    failed = Deployment.objects.create(site=site, source="git", status=Deployment.Status.FAILED)
    answer = api.post(f"/api/deployments/{failed.pk}/rollback")
    assert (
        answer.status_code == 422 and answer.json()["error"]["code"] == "DEPLOYMENT_NOT_RESTORABLE"
    )


def test_deployments_are_rate_limited(api, site, settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "deployments": "2/hour"}
    settings.REST_FRAMEWORK = rest
    put(api, site, {"index.html": b"x"})
    codes = [api.post(f"/api/hosting/spaces/{site.pk}/deploy").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    first = site.deployments.order_by("created_at").first()
    assert api.post(f"/api/deployments/{first.pk}/rollback").status_code == 429


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_other_users_cannot_touch_files_or_deployments(who, request, api, site, alice):
    put(api, site, {"index.html": b"alice's"})
    deployment = api.post(f"/api/hosting/spaces/{site.pk}/deploy").json()
    other = bearer_client(request.getfixturevalue(who))
    attempts = [
        other.get(files_url(site)),
        other.get(files_url(site, "/index.html")),
        other.post(
            files_url(site), {"file": SimpleUploadedFile("x.html", b"x")}, format="multipart"
        ),
        other.patch(files_url(site, "/index.html"), {"name": "x.html"}, format="json"),
        other.delete(files_url(site, "/index.html")),
        other.post(f"/api/hosting/spaces/{site.pk}/folders", {"path": "x"}, format="json"),
        other.post(f"/api/hosting/spaces/{site.pk}/deploy"),
        other.get(f"/api/hosting/spaces/{site.pk}/deployments"),
    ]
    for answer in attempts:
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "SITE_NOT_FOUND"
    rollback = other.post(f"/api/deployments/{deployment['id']}/rollback")
    assert (
        rollback.status_code == 404 and rollback.json()["error"]["code"] == "DEPLOYMENT_NOT_FOUND"
    )
    assert [f["name"] for f in api.get(files_url(site)).json()["files"]] == ["index.html"]
    assert Deployment.objects.filter(site=site).count() == 1


def test_file_contents_round_trip_binary(api, site):
    data = bytes(range(256)) * 10
    put(api, site, {"bin/blob.dat": data})
    got = api.get(files_url(site, "/bin/blob.dat"))
    assert b"".join(got.streaming_content) == data
    assert io.BytesIO(data).getbuffer().nbytes == int(got["Content-Length"])
