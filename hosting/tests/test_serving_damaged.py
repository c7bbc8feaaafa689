"""A release whose stored file is missing: the embedded site server answers 500 at once
(through a real daphne, where it used to hang), logs it once, and the site's page says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployments.blobs import BlobStore
from deployments.models import Deployment
from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.tests.serving_support import free_port, http_get, start_asgi_server, stop
from hosting.tests.test_serving_processes import shared_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_blob_answers_500_at_once_and_the_site_page_asks_for_a_redeploy(
    alice, web, tmp_path
):
    site = make_site(alice, slug="damaged")
    other = make_site(alice, slug="healthy")
    big = b"x" * (3 * 1024 * 1024)  # streamed from disk, not from the memory cache
    deployment = deployment_publish(
        site=site,
        files=files({"index.html": b"<h1>home</h1>", "video.bin": big}),
        source="upload",
    )
    deployment_publish(site=other, files=files({"index.html": b"fine"}), source="upload")
    store = BlobStore()
    for path in ("index.html", "video.bin"):
        store.local_path(deployment.manifest.entries.get(path=path).blob_id).unlink()

    port = free_port()
    env = shared_environment(tmp_path)
    log = tmp_path / "daphne.log"
    server = start_asgi_server("daphne", port, env, ROOT, log=log)
    try:
        for _ in range(3):
            for path in ("/", "/video.bin"):
                try:
                    answer = http_get(port, "damaged.localhost:8000", path)
                except TimeoutError:
                    pytest.fail(f"GET {path} of a release with a missing file hung")
                assert answer.status == 500, path
                assert b"could not be read" in answer.body
        assert http_get(port, "healthy.localhost:8000", "/").body == b"fine"
    finally:
        stop(server)
    logged = [line for line in log.read_text().splitlines() if "Damaged release" in line]
    assert len(logged) == 2, logged  # once per file, however often it is asked for
    assert all("damaged.localhost" in line for line in logged)
    assert any("/video.bin" in line for line in logged)

    assert Deployment.objects.get(pk=deployment.pk).damaged_path in ("index.html", "video.bin")
    page = web.get(f"/sites/{site.pk}/").content.decode()
    assert "Damaged release: redeploy." in page
    assert "Damaged release" not in web.get(f"/sites/{other.pk}/").content.decode()
