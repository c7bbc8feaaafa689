"""Backups kept in an S3-compatible bucket, for real: moto's server mode on loopback, reached
through Berth's own storage settings (S3_BUCKET, S3_ENDPOINT_URL, the AWS keys), with the file
stores in the same bucket. A site is backed up, changed, restored byte for byte, downloaded and
its backup deleted; Berth itself is backed up into the bucket and restored by another process
into an empty database and an empty bucket, and serves the same site from there."""

from __future__ import annotations

import io
import tarfile
import uuid

import boto3
import pytest
from django.core.management import call_command

from backups import restic, services
from backups.downloads import backup_archive
from backups.models import Backup, Repository, Restore
from backups.tests.conftest import FILES, files_of, site_with_files
from backups.tests.test_panel_backup import (
    BACKUP_PASSWORD,
    PAGE,
    assert_restored_panel_serves,
    child_env,
    empty_postgres_database,  # noqa: F401  (a fixture)
    manage,
)
from conftest import make_user
from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.files.backends import tree_for
from hosting.tests.conftest import moto_endpoint, use_s3  # noqa: F401  (moto_endpoint: a fixture)

pytestmark = [pytest.mark.services, pytest.mark.slow]


def client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def keys_under(endpoint: str, bucket: str, prefix: str) -> list[str]:
    listed = client(endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture
def s3(settings, monkeypatch, tmp_path, moto_endpoint, backup_root):  # noqa: F811
    """Berth's storage settings pointing at a new bucket on the loopback S3 server."""
    bucket = use_s3(settings, monkeypatch, moto_endpoint, tmp_path)
    settings.S3_BUCKET = bucket
    settings.S3_ENDPOINT_URL = moto_endpoint
    settings.S3_REGION = "us-east-1"
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    return moto_endpoint, bucket


def test_a_site_backup_in_the_bucket_restores_downloads_and_deletes(s3, alice):
    endpoint, bucket = s3
    site = site_with_files(alice)
    backup = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert backup.state == Backup.State.SUCCEEDED, backup.reason
    repo = Repository.objects.get(team=site.team)
    assert repo.location == f"s3:{endpoint}/{bucket}/backups/{site.team_id}"
    assert any(
        k.startswith(f"backups/{site.team_id}/data/")
        for k in keys_under(endpoint, bucket, "backups/")
    )
    assert repo.stored_bytes > 0

    tree = tree_for(site.pk)
    tree.save("index.html", io.BytesIO(b"<h1>Broken</h1>"))
    tree.delete_file("img/logo.png")
    job = services.restore_create(backup=backup)
    job = services.restore_run(restore_id=job.pk)
    assert job.state == Restore.State.SUCCEEDED, job.reason
    assert files_of(site) == FILES

    archive = b"".join(backup_archive(backup=backup).chunks)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        names = {m.name.split("/", 1)[1] for m in tar if m.isfile()}
    assert {f"files/{p}" for p in FILES} <= names

    services.backup_delete(backup=backup)
    services.snapshot_forget(team_id=site.team_id, snapshot_id=backup.snapshot_id)
    left = {s["short_id"] for s in restic.snapshots(repo.location, repo.password)}
    assert backup.snapshot_id not in left


@pytest.mark.django_db(transaction=True)
def test_berth_backs_up_into_the_bucket_and_restores_into_an_empty_one(
    s3,
    settings,
    tmp_path,
    empty_postgres_database,  # noqa: F811
):
    endpoint, bucket = s3
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    alice = make_user("alice@example.com", "Alice Liddell")
    site = make_site(alice, name="Garden", slug="garden")
    deployment_publish(site=site, files=files({"index.html": PAGE}), source="upload")
    assert keys_under(endpoint, bucket, "blobs/")

    settings.PANEL_BACKUP_PASSWORD = BACKUP_PASSWORD
    out = io.StringIO()
    call_command("backup", stdout=out)  # the default: the panel/ folder of Berth's bucket
    assert f"s3:{endpoint}/{bucket}/panel" in out.getvalue()
    assert keys_under(endpoint, bucket, "panel/data/")

    new_bucket = f"berth-restored-{uuid.uuid4().hex[:10]}"
    client(endpoint).create_bucket(Bucket=new_bucket)
    env = child_env(tmp_path / "new-machine", empty_postgres_database)
    env.update(
        S3_BUCKET=new_bucket,
        S3_ENDPOINT_URL=endpoint,
        S3_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        PANEL_BACKUP_REPOSITORY=f"s3:{endpoint}/{bucket}/panel",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    restored = manage(env, "restore")
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert keys_under(endpoint, new_bucket, "blobs/") == keys_under(endpoint, bucket, "blobs/")
    assert_restored_panel_serves(env, tmp_path)
