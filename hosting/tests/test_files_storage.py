"""The file manager's operations behave the same on local folders and on S3 (moto server).

Every test here runs twice through ``storage_backend``: "local" and "s3".
"""

from __future__ import annotations

import io
import zipfile

import pytest

from deployments.blobs import BlobStore
from deployments.models import Deployment
from hosting import services
from hosting.files import operations as ops
from hosting.files.backends import tree_for
from hosting.files.errors import FileNotFound, PathConflict, PathInvalid, QuotaExceeded
from hosting.files.uploads import files_upload
from hosting.models import Site
from hosting.tests.conftest import make_zip, upload

pytestmark = pytest.mark.django_db


def names(site, folder=""):
    return [
        (e.name, "dir" if e.is_dir else e.size) for e in ops.folder_list(site=site, folder=folder)
    ]


def used(site) -> int:
    site.refresh_from_db()
    return site.storage_used


def test_upload_many_files_keeps_relative_paths(storage_backend, site):
    result = files_upload(
        site=site,
        uploads=[
            upload("index.html", b"<h1>Home</h1>"),
            upload("css/site.css", b"body{color:red}"),
            upload("img/icons/logo.svg", b"<svg/>"),
        ],
    )
    assert sorted(result.files) == ["css/site.css", "img/icons/logo.svg", "index.html"]
    assert names(site) == [("css", "dir"), ("img", "dir"), ("index.html", 13)]
    assert names(site, "img/icons") == [("logo.svg", 6)]
    assert used(site) == 13 + 15 + 6


def test_upload_into_a_folder_and_replace_counts_the_difference(storage_backend, site):
    files_upload(site=site, folder="docs", uploads=[upload("a.txt", b"12345")])
    files_upload(site=site, folder="docs", uploads=[upload("a.txt", b"12")])
    assert names(site, "docs") == [("a.txt", 2)]
    assert used(site) == 2
    stream, size, ctype = ops.file_open(site=site, path="docs/a.txt")
    with stream:
        assert stream.read() == b"12" and size == 2 and ctype.startswith("text/plain")


def test_zip_upload_is_extracted_into_the_folder(storage_backend, site):
    archive = make_zip({"index.html": b"<p>zip</p>", "assets/app.js": b"1;", "empty/": b""})
    result = files_upload(
        site=site, folder="v2", uploads=[upload("site.zip", archive)], extract=True
    )
    assert sorted(result.files) == ["v2/assets/app.js", "v2/index.html"]
    assert names(site, "v2") == [("assets", "dir"), ("empty", "dir"), ("index.html", 10)]
    assert used(site) == 12


def test_zip_without_extract_is_stored_as_a_file(storage_backend, site):
    archive = make_zip({"a.txt": b"a"})
    files_upload(site=site, uploads=[upload("backup.zip", archive)])
    assert names(site) == [("backup.zip", len(archive))]


def test_create_rename_move_and_delete(storage_backend, site):
    files_upload(site=site, uploads=[upload("a/one.txt", b"1"), upload("a/two.txt", b"22")])
    assert ops.folder_create(site=site, folder="", name="b") == "b"
    assert names(site, "b") == []
    assert ops.path_rename(site=site, path="a/one.txt", new_name="uno.txt") == "a/uno.txt"
    assert ops.path_move(site=site, path="a/uno.txt", folder="b") == "b/uno.txt"
    assert ops.path_move(site=site, path="a", folder="b") == "b/a"
    assert names(site) == [("b", "dir")]
    assert names(site, "b") == [("a", "dir"), ("uno.txt", 1)]
    assert used(site) == 3
    assert ops.path_delete(site=site, path="b/a").bytes == 2
    assert used(site) == 1
    ops.path_delete(site=site, path="b/uno.txt")
    assert names(site, "b") == []  # the folder outlives its last file on both backends
    assert used(site) == 0


def test_conflicts_are_refused(storage_backend, site):
    files_upload(site=site, uploads=[upload("a.txt", b"a"), upload("d/x.txt", b"x")])
    with pytest.raises(PathConflict):
        ops.folder_create(site=site, folder="", name="a.txt")
    with pytest.raises(PathConflict):
        ops.path_rename(site=site, path="a.txt", new_name="d")
    with pytest.raises(PathConflict):
        files_upload(site=site, uploads=[upload("d", b"file over a folder")])
    with pytest.raises(PathConflict):
        files_upload(site=site, uploads=[upload("a.txt/inner.txt", b"folder over a file")])
    with pytest.raises(PathInvalid):
        ops.path_move(site=site, path="d", folder="d/deeper")
    with pytest.raises(FileNotFound):
        ops.path_delete(site=site, path="missing.txt")
    assert used(site) == 2


def test_text_edit_round_trip(storage_backend, site):
    files_upload(site=site, uploads=[upload("index.html", b"<h1>Old</h1>\n")])
    assert ops.text_read(site=site, path="index.html") == "<h1>Old</h1>\n"
    ops.text_save(site=site, path="index.html", content="<h1>Ünïcode</h1>\r\n")
    assert ops.text_read(site=site, path="index.html") == "<h1>Ünïcode</h1>\n"
    assert used(site) == len("<h1>Ünïcode</h1>\n".encode())


def test_folder_downloads_as_a_zip(storage_backend, site):
    files_upload(
        site=site, uploads=[upload("site/index.html", b"<p>hi</p>"), upload("site/a/b.css", b"b{}")]
    )
    data = b"".join(ops.folder_zip_stream(site=site, folder="site"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["a/b.css", "index.html"]
        assert archive.read("index.html") == b"<p>hi</p>"


def test_quota_refuses_an_upload_whole(storage_backend, site):
    Site.objects.filter(pk=site.pk).update(storage_limit=100)
    site.refresh_from_db()
    files_upload(site=site, uploads=[upload("keep.txt", b"k" * 40)])
    with pytest.raises(QuotaExceeded) as caught:
        files_upload(
            site=site, uploads=[upload("one.txt", b"1" * 30), upload("two.txt", b"2" * 31)]
        )
    assert caught.value.details["available"] == 60
    assert names(site) == [("keep.txt", 40)]  # nothing half-written
    assert used(site) == 40
    archive = make_zip({"big.txt": b"0" * 61})
    with pytest.raises(QuotaExceeded):
        files_upload(site=site, uploads=[upload("x.zip", archive)], extract=True)
    assert names(site) == [("keep.txt", 40)]
    # Replacing a file needs only the difference.
    files_upload(site=site, uploads=[upload("keep.txt", b"k" * 100)])
    assert used(site) == 100


def test_recount_matches_the_stored_files(storage_backend, site):
    files_upload(site=site, uploads=[upload("a.txt", b"abc"), upload("b/c.txt", b"de")])
    Site.objects.filter(pk=site.pk).update(storage_used=999)
    assert services.site_storage_recount(site=site) == 5
    assert used(site) == 5


def test_deploy_publishes_the_working_tree(storage_backend, site, alice):
    files_upload(site=site, uploads=[upload("index.html", b"<h1>v1</h1>"), upload("a.css", b"a")])
    first = services.site_deploy(site=site, author=alice)
    site.refresh_from_db()
    assert site.live_deployment == first and site.status == Site.Status.ONLINE
    entries = {e.path: e.blob_id for e in first.manifest.entries.all()}
    assert sorted(entries) == ["a.css", "index.html"]
    assert BlobStore().read(entries["index.html"]) == b"<h1>v1</h1>"
    ops.text_save(site=site, path="index.html", content="<h1>v2</h1>")
    second = services.site_deploy(site=site, author=alice)
    assert second.publish_stats.blobs_written == 1  # only the changed file
    assert first.source == second.source == Deployment.Source.UPLOAD


def test_deleting_a_site_removes_its_files(
    storage_backend, site, alice, django_capture_on_commit_callbacks
):
    files_upload(site=site, uploads=[upload("index.html", b"x"), upload("a/b.txt", b"y")])
    services.site_deploy(site=site, author=alice)
    other = services.site_create(owner=alice, name="Other")
    files_upload(site=other, uploads=[upload("keep.html", b"k")])
    with django_capture_on_commit_callbacks(execute=True):
        services.site_delete(site=site)
    assert not Site.objects.filter(pk=site.pk).exists()
    assert not Deployment.objects.filter(site_id=site.pk).exists()
    assert list(tree_for(site.pk).walk("")) == []
    assert [e.path for e in tree_for(other.pk).walk("")] == ["keep.html"]
