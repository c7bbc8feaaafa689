"""Deployments are immutable, content-addressed, switched atomically and rolled back instantly."""

from __future__ import annotations

import gzip
from datetime import timedelta

import brotli
import pytest
from django.core.exceptions import ValidationError

from deployments.blobs import BlobStore
from deployments.models import Blob, Deployment, Manifest
from deployments.services import (
    blobs_collect_garbage,
    deployment_publish,
    deployment_rollback,
    directory_files,
)
from deployments.tests.factories import files, make_site
from hosting.models import Site

pytestmark = pytest.mark.django_db

HTML = b"<!doctype html><title>Hi</title>" + b"<p>hello world</p>" * 40


def test_publish_stores_each_content_once_and_goes_live(alice):
    site = make_site(alice)
    assert site.status == Site.Status.PROVISIONING
    deployment = deployment_publish(
        site=site,
        files=files({"index.html": HTML, "copy.html": HTML, "a/b.css": b"body{}"}),
        source=Deployment.Source.UPLOAD,
        author=alice,
    )
    site.refresh_from_db()
    assert site.live_deployment == deployment and site.status == Site.Status.ONLINE
    assert deployment.status == Deployment.Status.SUCCESS
    assert deployment.publish_stats.files == 3
    assert deployment.publish_stats.blobs_written == 2  # the two identical pages share a blob
    entries = {e.path: e for e in deployment.manifest.entries.all()}
    assert entries["index.html"].content_type == "text/html; charset=utf-8"
    assert entries["a/b.css"].content_type == "text/css; charset=utf-8"
    assert BlobStore().read(entries["index.html"].blob_id) == HTML


def test_republishing_with_one_change_writes_one_blob(alice):
    site = make_site(alice)
    tree = {f"page{i}.html": f"<p>page {i}</p>".encode() for i in range(50)}
    first = deployment_publish(site=site, files=files(tree), source="upload")
    tree["page7.html"] = b"<p>changed</p>"
    second = deployment_publish(site=site, files=files(tree), source="upload")
    assert first.publish_stats.blobs_written == 50
    assert second.publish_stats.blobs_written == 1
    assert second.publish_stats.bytes_written == len(b"<p>changed</p>")
    # An identical tree reuses the whole manifest.
    third = deployment_publish(site=site, files=files(tree), source="upload")
    assert third.manifest_id == second.manifest_id and third.publish_stats.blobs_written == 0


def test_text_is_precompressed_and_binary_is_not(alice):
    site = make_site(alice)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    deployment = deployment_publish(
        site=site, files=files({"index.html": HTML, "logo.png": png}), source="upload"
    )
    store = BlobStore()
    html = deployment.manifest.entries.get(path="index.html").blob
    assert html.gzip_size and html.brotli_size
    assert gzip.decompress(store.read(html.digest, ".gz")) == HTML
    assert brotli.decompress(store.read(html.digest, ".br")) == HTML
    image = deployment.manifest.entries.get(path="logo.png").blob
    assert image.gzip_size is None and not store.exists(image.digest, ".gz")


def test_rollback_restores_old_files_as_a_recorded_deployment(alice):
    site = make_site(alice)
    old = deployment_publish(site=site, files=files({"index.html": b"v1"}), source="upload")
    deployment_publish(site=site, files=files({"index.html": b"v2"}), source="upload")
    restored = deployment_rollback(deployment=old, author=alice)
    site.refresh_from_db()
    assert site.live_deployment == restored
    assert restored.source == Deployment.Source.ROLLBACK and restored.restored_from == old
    assert restored.manifest_id == old.manifest_id
    assert site.deployments.count() == 3


def test_only_successful_deployments_can_be_restored(alice):
    site = make_site(alice)
    failed = Deployment.objects.create(site=site, source="git", status=Deployment.Status.FAILED)
    with pytest.raises(ValidationError):
        deployment_rollback(deployment=failed)


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "/abs.html", "a/../../b", "a\\b.html", "C:/x", "a\x00b", ""]
)
def test_paths_that_escape_are_refused(alice, bad):
    site = make_site(alice)
    with pytest.raises(ValidationError):
        deployment_publish(site=site, files=files({bad: b"x"}), source="upload")
    assert not Blob.objects.exists()


def test_publishing_a_directory_refuses_symlinks(alice, tmp_path):
    (tmp_path / "index.html").write_bytes(b"ok")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "page.html").write_bytes(b"page")
    assert [p for p, _ in directory_files(tmp_path)] == ["index.html", "sub/page.html"]
    (tmp_path / "leak").symlink_to("/etc/passwd")
    with pytest.raises(ValidationError):
        directory_files(tmp_path)


def test_garbage_collection_keeps_referenced_blobs(alice):
    site = make_site(alice)
    old = deployment_publish(site=site, files=files({"index.html": b"old"}), source="upload")
    new = deployment_publish(site=site, files=files({"index.html": b"new"}), source="upload")
    old_digest = old.manifest.entries.get().blob_id
    new_digest = new.manifest.entries.get().blob_id

    # Everything is referenced: nothing goes, however old.
    assert blobs_collect_garbage(grace=timedelta(0)) == (0, 0)
    old.delete()
    # Unreferenced but recent: kept for the grace period.
    assert blobs_collect_garbage(grace=timedelta(hours=1)) == (0, 0)
    assert blobs_collect_garbage(grace=timedelta(0)) == (1, 1)
    store = BlobStore()
    assert not store.exists(old_digest) and store.exists(new_digest)
    assert Manifest.objects.count() == 1 and Blob.objects.get().digest == new_digest
