"""The S3 backend end to end against a real S3-protocol server (moto's server mode on loopback):
settings.STORAGES as production builds it, the blob store, and publishing from working files."""

from __future__ import annotations

import gzip

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from deployments.blobs import BlobStore
from deployments.services import deployment_publish
from deployments.tests.factories import files
from hosting import services
from hosting.files.uploads import files_upload
from hosting.tests.conftest import upload, use_s3

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(settings, monkeypatch, tmp_path, moto_endpoint):
    return use_s3(settings, monkeypatch, moto_endpoint, tmp_path)


def objects(endpoint, bucket) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_the_three_stores_are_s3(bucket):
    from storages.backends.s3 import S3Storage

    for name in ("default", "sitefiles", "blobs"):
        assert isinstance(storages[name], S3Storage)
        assert storages[name].bucket_name == bucket


def test_blob_store_publishes_and_reads_back(bucket, moto_endpoint, site):
    page = b"<!doctype html><p>" + b"hello s3 " * 100 + b"</p>"
    deployment = deployment_publish(
        site=site, files=files({"index.html": page, "logo.png": b"\x89PNG..."}), source="upload"
    )
    store = BlobStore()
    entry = deployment.manifest.entries.get(path="index.html")
    assert store.read(entry.blob_id) == page
    assert gzip.decompress(store.read(entry.blob_id, ".gz")) == page
    keys = objects(moto_endpoint, bucket)
    assert f"blobs/{BlobStore.key(entry.blob_id)}" in keys
    assert f"blobs/{BlobStore.key(entry.blob_id, '.br')}" in keys
    assert store.local_path(entry.blob_id) is None  # nothing on local disk
    # Publishing the same tree again writes nothing.
    again = deployment_publish(
        site=site, files=files({"index.html": page, "logo.png": b"\x89PNG..."}), source="upload"
    )
    assert again.publish_stats.blobs_written == 0


def test_working_files_live_under_the_site_id(bucket, moto_endpoint, site, alice):
    files_upload(site=site, uploads=[upload("index.html", b"<p>x</p>"), upload("a/b.css", b"b")])
    keys = objects(moto_endpoint, bucket)
    assert f"sites/{site.pk}/index.html" in keys and f"sites/{site.pk}/a/b.css" in keys
    deployment = services.site_deploy(site=site, author=alice)
    assert deployment.manifest.file_count == 2


def test_public_store_still_works(bucket):
    name = storages["default"].save("avatars/a.txt", ContentFile(b"avatar"))
    with storages["default"].open(name) as handle:
        assert handle.read() == b"avatar"
