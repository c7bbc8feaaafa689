"""Blob garbage collection: the periodic task, its schedule and the management command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from controlpanel.celery import app
from deployments.blobs import BlobStore
from deployments.models import Blob
from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.tasks import collect_blobs_task

pytestmark = pytest.mark.django_db


def test_periodic_task_collects_unreferenced_blobs_after_the_grace(alice, settings):
    site = make_site(alice)
    old = deployment_publish(site=site, files=files({"index.html": b"old"}), source="upload")
    new = deployment_publish(site=site, files=files({"index.html": b"new"}), source="upload")
    old_digest = old.manifest.entries.get().blob_id
    old.delete()
    settings.BLOB_GC_GRACE_HOURS = 1
    assert collect_blobs_task.apply().get() == {"manifests": 0, "blobs": 0}  # too recent
    settings.BLOB_GC_GRACE_HOURS = 0
    assert collect_blobs_task.apply().get() == {"manifests": 1, "blobs": 1}
    assert not BlobStore().exists(old_digest)
    assert Blob.objects.get().digest == new.manifest.entries.get().blob_id


def test_the_task_is_scheduled():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"hosting.collect_blobs", "hosting.edge_sync", "hosting.edge_bandwidth"} <= tasks


def test_management_command(alice):
    site = make_site(alice)
    first = deployment_publish(site=site, files=files({"a.html": b"a"}), source="upload")
    deployment_publish(site=site, files=files({"b.html": b"b"}), source="upload")
    first.delete()
    out = StringIO()
    call_command("collect_blobs", "--grace-hours", "0", stdout=out)
    assert "Deleted 1 manifests and 1 blobs." in out.getvalue()
