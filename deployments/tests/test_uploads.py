"""Folder deploys over the API: the client names every file by digest, uploads only the ones the
server asks for, then publishes; previews are listed and removed; a draft is promoted."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import bearer_client
from deployments.models import Blob, Deployment, LogLine
from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from deployments.uploads import uploads_abandon
from teams.models import Membership, Role

pytestmark = pytest.mark.django_db


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def deploy(api, site, tree: dict[str, bytes], **extra):
    """The whole client side: manifest, the uploads asked for, publish. Returns (answer of the
    start, answer of the publish)."""
    manifest = {path: sha(data) for path, data in tree.items()}
    started = api.post(f"/api/sites/{site.pk}/deploys", {"files": manifest, **extra}, format="json")
    assert started.status_code == 201, started.json()
    body = started.json()
    by_digest = {sha(data): data for data in tree.values()}
    for digest in body["required"]:
        put = api.generic(
            "PUT",
            f"/api/deployments/{body['deployment']['id']}/blobs/{digest}",
            by_digest[digest],
            content_type="application/octet-stream",
        )
        assert put.status_code == 200, put.json()
    published = api.post(f"/api/deployments/{body['deployment']['id']}/publish")
    assert published.status_code == 200, published.json()
    return body, published.json()


def test_a_second_deploy_uploads_only_the_changed_file(api, alice):
    site = make_site(alice, slug="folder")
    tree = {f"page-{i}.html": f"<p>page {i}</p>".encode() for i in range(20)}
    tree["same.txt"] = b"twice"
    tree["copy/same.txt"] = b"twice"
    first, published = deploy(api, site, tree)
    assert len(first["required"]) == 21  # two paths with the same contents: one upload
    assert first["deployment"]["status"] == "uploading"
    assert published["status"] == "success" and published["isLive"]
    assert published["files"] == 22 and published["stats"]["blobsWritten"] == 21

    tree["page-3.html"] = b"<p>changed</p>"
    second, published = deploy(api, site, tree)
    assert second["required"] == [sha(b"<p>changed</p>")]
    assert published["stats"]["blobsWritten"] == 1
    site.refresh_from_db()
    assert str(site.live_deployment_id) == published["id"]
    assert published["deploymentUrl"].startswith("http://")
    messages = LogLine.objects.filter(deployment_id=published["id"]).values_list(
        "message", flat=True
    )
    assert any("1 uploaded" in m for m in messages)


def test_contents_must_match_their_digest(api, alice):
    site = make_site(alice, slug="digests")
    started = api.post(
        f"/api/sites/{site.pk}/deploys", {"files": {"a.txt": sha(b"real")}}, format="json"
    ).json()
    pk = started["deployment"]["id"]
    wrong = api.generic(
        "PUT", f"/api/deployments/{pk}/blobs/{sha(b'real')}", b"forged", content_type="text/plain"
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "DIGEST_MISMATCH"
    stranger = api.generic(
        "PUT", f"/api/deployments/{pk}/blobs/{sha(b'other')}", b"other", content_type="text/plain"
    )
    assert stranger.status_code == 404
    assert stranger.json()["error"]["code"] == "BLOB_NOT_IN_DEPLOY"
    early = api.post(f"/api/deployments/{pk}/publish")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "BLOBS_MISSING"
    assert early.json()["error"]["details"]["required"] == [sha(b"real")]
    assert not Blob.objects.filter(digest=sha(b"forged")).exists()


def test_bad_manifests_are_refused(api, alice):
    site = make_site(alice, slug="refused")
    for manifest in ({"../x": sha(b"x")}, {"a.txt": "not-a-digest"}, {"/etc/passwd": sha(b"x")}):
        answer = api.post(f"/api/sites/{site.pk}/deploys", {"files": manifest}, format="json")
        assert answer.status_code == 422, manifest
    assert not Deployment.objects.filter(site=site).exists()


def test_another_teams_files_are_never_counted_as_present(api, alice, bob):
    """Bob's team stored the contents; Alice naming the digest must still upload them, and a
    publish without uploading them is refused."""
    secret = b"bob's private notes"
    bobs = make_site(bob, slug="bobs")
    deployment_publish(site=bobs, files=files({"notes.txt": secret}), source="upload")
    site = make_site(alice, slug="alices")
    answer = api.post(
        f"/api/sites/{site.pk}/deploys", {"files": {"x.txt": sha(secret)}}, format="json"
    ).json()
    assert answer["required"] == [sha(secret)]
    refused = api.post(f"/api/deployments/{answer['deployment']['id']}/publish")
    assert refused.status_code == 409


def test_other_users_get_404_and_viewers_403(api, alice, bob):
    site = make_site(alice, slug="private")
    manifest = {"files": {"a.txt": sha(b"a")}}
    other = bearer_client(bob)
    assert other.post(f"/api/sites/{site.pk}/deploys", manifest, format="json").status_code == 404
    pk = api.post(f"/api/sites/{site.pk}/deploys", manifest, format="json").json()["deployment"]
    put = other.generic(
        "PUT", f"/api/deployments/{pk['id']}/blobs/{sha(b'a')}", b"a", content_type="text/plain"
    )
    assert put.status_code == 404
    Membership.objects.create(team=site.team, user=bob, role=Role.VIEWER)
    assert other.post(f"/api/deployments/{pk['id']}/publish").status_code == 403


def test_a_draft_is_served_at_its_own_address_until_promoted(api, alice):
    site = make_site(alice, slug="drafts")
    _, live = deploy(api, site, {"index.html": b"live"})
    _, draft = deploy(api, site, {"index.html": b"draft"}, activate=False)
    assert draft["status"] == "success" and not draft["isLive"]
    site.refresh_from_db()
    assert str(site.live_deployment_id) == live["id"]
    promoted = api.post(f"/api/deployments/{draft['id']}/promote")
    assert promoted.status_code == 201
    site.refresh_from_db()
    assert str(site.live_deployment_id) == promoted.json()["id"]
    assert str(site.live_deployment.manifest_id) == str(
        Deployment.objects.get(pk=draft["id"]).manifest_id
    )


def test_an_abandoned_upload_fails_after_a_day_and_can_be_cancelled(api, alice):
    site = make_site(alice, slug="abandoned")
    manifest = {"files": {"a.txt": sha(b"a")}}
    first = api.post(f"/api/sites/{site.pk}/deploys", manifest, format="json").json()
    Deployment.objects.filter(pk=first["deployment"]["id"]).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    assert uploads_abandon() == 1
    stale = Deployment.objects.get(pk=first["deployment"]["id"])
    assert stale.status == "failed" and "never finished" in stale.error
    second = api.post(f"/api/sites/{site.pk}/deploys", manifest, format="json").json()
    cancel = api.post(f"/api/deployments/{second['deployment']['id']}/cancel")
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    late = api.generic(
        "PUT",
        f"/api/deployments/{second['deployment']['id']}/blobs/{sha(b'a')}",
        b"a",
        content_type="text/plain",
    )
    assert late.status_code == 409


def test_previews_are_listed_and_removed(api, alice):
    site = make_site(alice, slug="previewed")
    deployment_publish(site=site, files=files({"index.html": b"prod"}), source="upload")
    built = deployment_publish(
        site=site, files=files({"index.html": b"feature"}), source="upload", activate=False
    )
    Deployment.objects.filter(pk=built.pk).update(preview="feature-x", branch="feature/x")
    listed = api.get(f"/api/sites/{site.pk}/previews").json()["previews"]
    assert [(p["name"], p["branch"]) for p in listed] == [("feature-x", "feature/x")]
    assert listed[0]["url"].startswith("http://feature-x--previewed.")
    assert listed[0]["servingDeploymentId"] == str(built.pk)

    removed = api.delete(f"/api/sites/{site.pk}/previews/feature-x")
    assert removed.status_code == 200 and removed.json()["deployments"] == 1
    assert api.get(f"/api/sites/{site.pk}/previews").json()["previews"] == []
    again = api.delete(f"/api/sites/{site.pk}/previews/feature-x")
    assert again.status_code == 404 and again.json()["error"]["code"] == "PREVIEW_NOT_FOUND"


def test_logs_tail_answers_the_last_lines(api, alice):
    from deployments.logs import log_append

    site = make_site(alice, slug="tailed")
    deployment = deployment_publish(site=site, files=files({"a": b"a"}), source="upload")
    for i in range(1, 31):
        log_append(deployment.pk, f"line {i}")
    answer = api.get(f"/api/deployments/{deployment.pk}/logs?tail=5").json()
    assert [line["message"] for line in answer["logs"]] == [f"line {i}" for i in range(26, 31)]


def test_many_small_files_go_in_one_request(api, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    site = make_site(alice, slug="batched")
    tree = {f"f{i}.txt": f"file {i}".encode() for i in range(50)}
    started = api.post(
        f"/api/sites/{site.pk}/deploys",
        {"files": {p: sha(d) for p, d in tree.items()}},
        format="json",
    ).json()
    pk = started["deployment"]["id"]
    parts = {sha(d): SimpleUploadedFile(p, d) for p, d in tree.items()}
    answer = api.post(f"/api/deployments/{pk}/blobs", parts, format="multipart")
    assert answer.status_code == 200, answer.json()
    assert len(answer.json()["received"]) == 50
    published = api.post(f"/api/deployments/{pk}/publish")
    assert published.status_code == 200 and published.json()["stats"]["blobsWritten"] == 50
    # The deploy's start and publish are audited; its uploads are not lines of their own.
    from teams.models import AuditEvent

    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert not any("blobs" in action for action in actions)
    assert any("api-site-deploys" in action for action in actions)


def test_a_deploy_waiting_for_its_files_shows_as_uploading(api, web, alice):
    site = make_site(alice, slug="waiting")
    started = api.post(
        f"/api/sites/{site.pk}/deploys", {"files": {"a.txt": sha(b"a")}}, format="json"
    ).json()
    page = web.get(f"/deployments/{started['deployment']['id']}/")
    assert page.status_code == 200
    assert "Uploading" in page.content.decode()
    listed = api.get("/api/deployments?status=building").json()["deployments"]
    assert [d["status"] for d in listed] == ["uploading"]
    detail = api.get(f"/api/deployments/{started['deployment']['id']}").json()
    assert detail["canCancel"] is True
