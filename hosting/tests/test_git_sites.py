"""A site built from git: its page shows the repository and what is live, its Files tab browses
the live deployment read-only, its storage counts the live deployment, and the sites list shows
the live deployment with a newer failed or cancelled attempt flagged beside it."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from deployments.models import Deployment, Project
from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting import selectors

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
TREE = {
    "index.html": b"<!doctype html><h1>Built by Vite</h1>",
    "assets/app-3f2a.js": b"console.log('hello from the build')",
    "assets/logo.png": PNG,
}


def git_site(owner, *, name="vite-app", tree=None, hours_ago=2):
    """A site with a project and a live git deployment of ``tree``, finished ``hours_ago``."""
    site = make_site(owner, name=name)
    project = Project.objects.create(
        team=site.team,
        owner=owner,
        site=site,
        name=name,
        repository=f"https://git.example.com/team/{name}.git",
        clone_url=f"https://git.example.com/team/{name}.git",
        branch="master",
        build_command="",
        output_dir="",
        webhook_secret=secrets.token_hex(8),
    )
    deployment = deployment_publish(site=site, files=files(tree or TREE), source="git")
    finished = timezone.now() - timedelta(hours=hours_ago)
    Deployment.objects.filter(pk=deployment.pk).update(
        project=project,
        branch="master",
        commit_hash="c0ffee1" + "0" * 33,
        commit_message="Ship the new landing page",
        commit_author="Ada Lovelace",
        created_at=finished - timedelta(minutes=1),
        finished_at=finished,
    )
    site.refresh_from_db()
    return site, project, deployment


def attempt(site, project, status, minutes_ago=5):
    created = timezone.now() - timedelta(minutes=minutes_ago)
    return Deployment.objects.create(
        site=site,
        project=project,
        source="git",
        status=status,
        branch="master",
        created_at=created,
        finished_at=created,
    )


def test_the_site_page_shows_repository_branch_live_commit_and_deploy_latest(web, alice):
    site, project, _ = git_site(alice)
    html = web.get(f"/sites/{site.pk}/").text
    assert "https://git.example.com/team/vite-app.git" in html
    assert "master" in html and "c0ffee1" in html and "Ship the new landing page" in html
    assert "detected at build time" in html  # the empty build settings
    assert f'action="/projects/{project.pk}/deploy/"' in html and "Deploy latest" in html
    assert "Deploy these files" not in html


def test_deploy_latest_from_the_site_page_queues_the_branch_head(web, alice):
    site, project, _ = git_site(alice)
    response = web.post(f"/projects/{project.pk}/deploy/")
    queued = Deployment.objects.filter(site=site, status="queued").get()
    assert response.status_code == 302 and response.url == f"/deployments/{queued.pk}/"
    assert queued.branch == "master" and queued.commit_hash == "" and queued.redeploy_of is None


def test_files_tab_browses_the_live_deployment_read_only(web, alice):
    site, _, _ = git_site(alice)
    html = web.get(f"/sites/{site.pk}/files/").text
    assert "Read-only" in html and "c0ffee1" in html
    assert "index.html" in html and 'href="?path=assets"' in html
    for writing in ("data-upload", "/files/folder/", "/files/delete/", "/files/rename/"):
        assert writing not in html
    inside = web.get(f"/sites/{site.pk}/files/", {"path": "assets"}).text
    assert "app-3f2a.js" in inside and "logo.png" in inside

    shown = web.get(f"/sites/{site.pk}/files/live/", {"path": "assets/app-3f2a.js"})
    assert shown.status_code == 200 and "hello from the build" in shown.text
    download = web.get(f"/sites/{site.pk}/files/live/download/", {"path": "index.html"})
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == TREE["index.html"]
    assert "attachment" in download["Content-Disposition"]
    image = web.get(
        f"/sites/{site.pk}/files/live/download/", {"path": "assets/logo.png", "inline": "1"}
    )
    assert "sandbox" in image["Content-Security-Policy"] and image["Content-Type"] == "image/png"
    missing = web.get(f"/sites/{site.pk}/files/live/", {"path": "nope.txt"}, follow=True)
    assert "There is no file “nope.txt”" in missing.text
    escape = web.get(f"/sites/{site.pk}/files/live/download/", {"path": "../../etc/passwd"})
    assert escape.status_code == 302


def test_files_of_another_users_git_site_are_not_found(client, alice, bob):
    site, _, _ = git_site(alice)
    client.force_login(bob)
    assert client.get(f"/sites/{site.pk}/files/").status_code == 404
    assert (
        client.get(f"/sites/{site.pk}/files/live/download/", {"path": "index.html"}).status_code
        == 404
    )


def test_storage_counts_the_live_deployment(web, alice):
    site, _, deployment = git_site(alice)
    total = sum(len(data) for data in TREE.values())
    assert deployment.manifest.total_size == total
    assert selectors.site_get(user=alice, pk=site.pk).storage_in_use == total
    html = web.get(f"/sites/{site.pk}/").text
    assert f"{total}\xa0bytes of 1.0\xa0GB" in html
    body = web.get(f"/api/sites/{site.pk}").json()
    assert body["storage"]["used"] == total and body["builtFromGit"] is True


def test_sites_list_shows_the_live_deployment_and_flags_a_newer_failure(web, alice):
    site, project, _ = git_site(alice)
    html = web.get("/sites/").text
    assert "Online · deployed" in html and "2\xa0hours ago" in html
    assert "data-newer-attempt" not in html

    failed = attempt(site, project, "failed")
    html = web.get("/sites/").text
    assert "Online · deployed" in html and "2\xa0hours ago" in html  # still the live one
    assert 'data-newer-attempt="failed"' in html and "Newer attempt failed" in html
    assert f"/deployments/{failed.pk}/" in html

    attempt(site, project, "cancelled", minutes_ago=1)
    html = web.get("/sites/").text
    assert 'data-newer-attempt="cancelled"' in html and "Newer attempt cancelled" in html


def test_a_site_whose_only_build_failed_says_nothing_is_live(web, alice):
    site = make_site(alice, name="broken")
    Deployment.objects.create(site=site, source="git", status="failed")
    html = web.get("/sites/").text
    assert "Nothing live yet" in html and 'data-newer-attempt="failed"' in html
