"""Backup fixtures: real restic into a repository folder of the test's own, and a real Celery
worker sharing it."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import require_binary
from deployments.tests.conftest import WorkerProcess, _purge_broker


@pytest.fixture(autouse=True)
def backup_root(settings):
    require_binary(settings.RESTIC_BINARY)
    root = Path(tempfile.mkdtemp(prefix="berth-backups-"))
    settings.BACKUP_ROOT = root
    settings.S3_BUCKET = ""
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def backup_worker(transactional_db, settings, tmp_path, backup_root):
    """A real Celery worker with the same storage and backup folders."""
    _purge_broker()
    env = {"BACKUP_ROOT": str(backup_root), "S3_BUCKET": ""}
    if settings.MARIADB_URL:
        env["MARIADB_URL"] = settings.MARIADB_URL
    process = WorkerProcess(tmp_path, settings, extra_env=env)
    yield process
    process.stop()


FILES = {
    "index.html": b"<h1>Home</h1>\n",
    "css/site.css": b"body { color: #123456 }\n",
    "img/logo.png": bytes(range(256)) * 40,
}


def site_with_files(owner, name="Garden"):
    from hosting.files.backends import tree_for
    from hosting.services import site_create

    site = site_create(owner=owner, name=name)
    tree = tree_for(site.pk)
    for path, content in FILES.items():
        tree.save(path, io.BytesIO(content))
    return site


def files_of(site) -> dict[str, bytes]:
    from hosting.files.backends import tree_for

    tree = tree_for(site.pk)
    out = {}
    for entry in tree.walk():
        with tree.open(entry.path) as stream:
            out[entry.path] = stream.read()
    return out
