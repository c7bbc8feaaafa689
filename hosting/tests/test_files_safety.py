"""No path escapes a site; names are normalised; limits and the quota hold before any write."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from hosting.files import operations as ops
from hosting.files.backends import tree_for
from hosting.files.errors import ArchiveInvalid, FileNotFound, PathInvalid, TooLarge
from hosting.files.paths import clean_path, clean_segment
from hosting.files.uploads import files_upload
from hosting.models import Site
from hosting.tests.conftest import make_zip, upload

pytestmark = pytest.mark.django_db

ESCAPES = [
    "../secret.txt",
    "a/../../secret.txt",
    "..",
    "/etc/passwd",
    "//server/share",
    "a\\..\\b.txt",
    "..\\secret.txt",
    "C:/Windows/win.ini",
    "c:evil.txt",
    "a\x00b.html",
    "a/\x00/b",
    "bad\x07name.txt",
    "line\nbreak.txt",
    "gpj.\u202eexe",
]


@pytest.mark.parametrize("raw", ESCAPES)
def test_unsafe_paths_are_refused(raw):
    with pytest.raises(PathInvalid):
        clean_path(raw)


def test_names_are_normalised():
    decomposed = "cafe\u0301.html"  # "e" + combining acute
    assert clean_path(f"  {decomposed}  ") == "caf\u00e9.html"
    assert clean_path("a//b/./c.txt") == "a/b/c.txt"
    assert clean_path("", allow_root=True) == ""
    assert clean_segment(" report.pdf ") == "report.pdf"
    with pytest.raises(PathInvalid):
        clean_segment("a/b")
    with pytest.raises(PathInvalid):
        clean_path("x" * 256)


@pytest.mark.parametrize("raw", ESCAPES)
def test_every_operation_refuses_escapes(storage_backend, site, raw):
    files_upload(site=site, uploads=[upload("ok.txt", b"ok")])
    calls = [
        lambda: files_upload(site=site, uploads=[upload(raw, b"x")]),
        lambda: files_upload(site=site, folder=raw, uploads=[upload("x.txt", b"x")]),
        lambda: ops.folder_list(site=site, folder=raw),
        lambda: ops.file_open(site=site, path=raw),
        lambda: ops.folder_create(site=site, folder="", name=raw),
        lambda: ops.path_rename(site=site, path="ok.txt", new_name=raw),
        lambda: ops.path_move(site=site, path="ok.txt", folder=raw),
        lambda: ops.path_delete(site=site, path=raw),
        lambda: ops.text_save(site=site, path=raw, content="x"),
    ]
    for call in calls:
        with pytest.raises((PathInvalid, FileNotFound)):
            call()
    assert [e.path for e in tree_for(site.pk).walk("")] == ["ok.txt"]


def test_one_site_cannot_reach_another(site, bob_site):
    files_upload(site=bob_site, uploads=[upload("private.txt", b"bob's")])
    for path in (f"../{bob_site.pk}/private.txt", f"/{bob_site.pk}/private.txt"):
        with pytest.raises(PathInvalid):
            ops.file_open(site=site, path=path)
    with pytest.raises(FileNotFound):
        ops.file_open(site=site, path=f"{bob_site.pk}/private.txt")


def test_symlinks_on_disk_are_never_followed(site, tmp_path):
    files_upload(site=site, uploads=[upload("index.html", b"ok")])
    root = tree_for(site.pk).root
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd").write_text("root:x:0:0")
    os.symlink(secret / "passwd", os.path.join(root, "leak.txt"))
    os.symlink(secret, os.path.join(root, "linked"))
    assert [e.name for e in ops.folder_list(site=site)] == ["index.html"]
    for path in ("leak.txt", "linked/passwd"):
        with pytest.raises(PathInvalid):
            ops.file_open(site=site, path=path)
    with pytest.raises(PathInvalid):
        ops.folder_list(site=site, folder="linked")
    with pytest.raises(PathInvalid):
        files_upload(site=site, uploads=[upload("linked/new.txt", b"x")])
    assert not (secret / "new.txt").exists()
    with pytest.raises(PathInvalid):
        ops.path_delete(site=site, path="linked")
    assert (secret / "passwd").exists()
    assert [p for p, _ in ops.files_for_publish(site=site)] == ["index.html"]
    data = b"".join(ops.folder_zip_stream(site=site))
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["index.html"]


@pytest.mark.parametrize(
    "entry", ["../evil.html", "a/../../evil.html", "/abs/evil.html", "..\\evil.html", "C:/evil"]
)
def test_zip_slip_entries_refuse_the_whole_archive(storage_backend, site, entry):
    archive = make_zip({"good.html": b"fine", entry: b"evil"})
    with pytest.raises(PathInvalid):
        files_upload(site=site, uploads=[upload("site.zip", archive)], extract=True)
    assert list(tree_for(site.pk).walk("")) == []


def test_zip_with_a_symlink_is_refused(site):
    archive = make_zip({"index.html": b"x"}, symlink="passwd")
    with pytest.raises(ArchiveInvalid):
        files_upload(site=site, uploads=[upload("s.zip", archive)], extract=True)
    assert list(tree_for(site.pk).walk("")) == []


def test_zip_bombs_are_stopped_before_unpacking(site, settings):
    settings.SITE_ZIP_MAX_UNCOMPRESSED = 1024 * 1024
    bomb = make_zip({f"zeros{i}.bin": b"\0" * (600 * 1024) for i in range(2)})
    assert len(bomb) < 10_000  # a few KB that claim 1.2 MB
    with pytest.raises(TooLarge):
        files_upload(site=site, uploads=[upload("bomb.zip", bomb)], extract=True)
    # Against the quota too, before anything is unpacked.
    settings.SITE_ZIP_MAX_UNCOMPRESSED = 1024**3
    Site.objects.filter(pk=site.pk).update(storage_limit=1000 * 1024)
    site.refresh_from_db()
    from hosting.files.errors import QuotaExceeded

    with pytest.raises(QuotaExceeded):
        files_upload(site=site, uploads=[upload("bomb.zip", bomb)], extract=True)
    assert list(tree_for(site.pk).walk("")) == []


def test_zip_entries_that_lie_about_their_size_are_refused(site):
    data = bytearray(make_zip({"a.txt": b"A" * 5000}))
    # Patch the declared size (local header and central directory) down to 10 bytes.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("a.txt")
    local = info.header_offset
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")
    central = bytes(data).rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveInvalid):
        files_upload(site=site, uploads=[upload("lie.zip", bytes(data))], extract=True)
    assert list(tree_for(site.pk).walk("")) == []


def test_not_a_zip_is_a_clear_error(site):
    with pytest.raises(ArchiveInvalid):
        files_upload(site=site, uploads=[upload("fake.zip", b"not a zip")], extract=True)


def test_size_and_count_limits(storage_backend, site, settings):
    settings.SITE_UPLOAD_MAX_FILE_SIZE = 10
    with pytest.raises(TooLarge):
        files_upload(site=site, uploads=[upload("ok.txt", b"1"), upload("big.txt", b"x" * 11)])
    settings.SITE_UPLOAD_MAX_FILE_SIZE = 100
    settings.SITE_UPLOAD_MAX_REQUEST_SIZE = 15
    with pytest.raises(TooLarge):
        files_upload(site=site, uploads=[upload("a.txt", b"x" * 8), upload("b.txt", b"x" * 8)])
    settings.SITE_UPLOAD_MAX_REQUEST_SIZE = 1000
    settings.SITE_UPLOAD_MAX_FILES = 2
    with pytest.raises(TooLarge):
        files_upload(site=site, uploads=[upload(f"{i}.txt", b"x") for i in range(3)])
    settings.SITE_ZIP_MAX_FILES = 2
    archive = make_zip({f"{i}.txt": b"x" for i in range(3)})
    with pytest.raises(TooLarge):
        files_upload(site=site, uploads=[upload("many.zip", archive)], extract=True)
    settings.SITE_UPLOAD_MAX_FILE_SIZE = 4
    with pytest.raises(TooLarge):
        files_upload(
            site=site, uploads=[upload("z.zip", make_zip({"big.txt": b"12345"}))], extract=True
        )
    assert list(tree_for(site.pk).walk("")) == []
    site.refresh_from_db()
    assert site.storage_used == 0


def test_duplicate_paths_in_one_upload_are_refused(site):
    from hosting.files.errors import PathConflict

    with pytest.raises(PathConflict):
        files_upload(site=site, uploads=[upload("a.txt", b"1"), upload("./a.txt", b"2")])


def test_editor_refuses_binary_and_unknown_types(site):
    from hosting.files.errors import NotEditable

    files_upload(site=site, uploads=[upload("bin.txt", b"\xff\xfe\x00"), upload("x.exe", b"MZ")])
    with pytest.raises(NotEditable):
        ops.text_read(site=site, path="bin.txt")
    with pytest.raises(NotEditable):
        ops.text_read(site=site, path="x.exe")
    with pytest.raises(NotEditable):
        ops.text_save(site=site, path="new.exe", content="MZ")
