"""Fixtures for site and file tests: alice's site, and the file stores on both backends.

``storage_backend`` runs a test twice: on local folders (the embedded default) and on a real
S3-protocol server (moto's server mode on loopback, a fresh bucket per test), with
settings.STORAGES built by controlpanel.settings.file_storages exactly as in production.
"""

from __future__ import annotations

import io
import logging
import uuid

import pytest

from conftest import free_port, require_service


@pytest.fixture(scope="session")
def moto_endpoint():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        require_service("moto[server]", False, "pip install -r requirements-dev.txt")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def use_s3(settings, monkeypatch, endpoint: str, root) -> str:
    """Point the three file stores at a new bucket on ``endpoint``; answers the bucket."""
    import boto3

    from controlpanel import settings as project_settings

    # The server is on loopback: never send its traffic through a configured proxy.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    bucket = f"berth-test-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    monkeypatch.setattr(project_settings, "S3_ENDPOINT_URL", endpoint)
    monkeypatch.setattr(project_settings, "S3_REGION", "us-east-1")
    monkeypatch.setattr(project_settings, "AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setattr(project_settings, "AWS_SECRET_ACCESS_KEY", "testing")
    settings.STORAGES = {**settings.STORAGES, **project_settings.file_storages(root, bucket)}
    return bucket


@pytest.fixture(params=["local", "s3"])
def storage_backend(request, settings, monkeypatch, tmp_path) -> str:
    """Run the test against local folders and against S3 (moto server on loopback)."""
    if request.param == "s3":
        use_s3(settings, monkeypatch, request.getfixturevalue("moto_endpoint"), tmp_path)
    return request.param


@pytest.fixture
def site(alice):
    from hosting.services import site_create

    return site_create(owner=alice, name="Alice's Docs", slug="alice-docs")


@pytest.fixture
def bob_site(bob):
    from hosting.services import site_create

    return site_create(owner=bob, name="Bob's Blog", slug="bob-blog")


def upload(name: str, data: bytes):
    from hosting.files.uploads import Upload

    return Upload(name=name, stream=io.BytesIO(data), size=len(data))


def make_zip(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    import stat
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()
