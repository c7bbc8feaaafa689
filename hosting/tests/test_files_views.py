"""The file manager pages: browse, upload (XHR and plain form), folders, rename, move, delete,
download, preview, edit, and "Deploy these files" with rollback on the Deployments tab."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from deployments.models import Deployment
from hosting.files import operations as ops
from hosting.files.uploads import files_upload
from hosting.models import Site
from hosting.tests.conftest import make_zip, upload

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def url(name, site, **query):
    from urllib.parse import urlencode

    base = reverse(f"hosting:{name}", args=[site.pk])
    return f"{base}?{urlencode(query)}" if query else base


def listing(site, folder=""):
    return [e.name for e in ops.folder_list(site=site, folder=folder)]


def test_browse_with_breadcrumbs_and_empty_states(web, site):
    page = web.get(url("site-files", site))
    assert "No files yet" in page.text
    files_upload(site=site, uploads=[upload("docs/guide/intro.md", b"# Intro")])
    page = web.get(url("site-files", site, path="docs/guide"))
    html = page.text
    assert "intro.md" in html and "?path=docs" in html and "<strong>guide</strong>" in html
    assert reverse(
        "hosting:file-edit", args=[site.pk]
    ) + "?path=docs/guide/intro.md" in html.replace("%2F", "/")
    page = web.get(url("site-files", site, path="missing"), follow=True)
    assert "There is no folder" in page.text
    page = web.get(url("site-files", site, path="../../etc"), follow=True)
    assert "climbs out of the site" in page.text


def test_huge_folders_are_paginated(web, site, django_assert_max_num_queries):
    files_upload(site=site, uploads=[upload(f"f{i:03}.txt", b"x") for i in range(130)])
    # 10: the page's own reads plus the acting team's membership check, the team switcher and
    # the site's backup alerts.
    with django_assert_max_num_queries(10):
        page = web.get(url("site-files", site))
    assert page.text.count("data-path=") == 100 and "Page 1 of 2" in page.text
    assert web.get(url("site-files", site, page=2)).text.count("data-path=") == 30


def test_xhr_upload_of_a_folder_keeps_relative_paths(web, site):
    page = web.post(
        url("files-upload", site),
        {
            "folder": "",
            "paths": json.dumps(["my-site/index.html", "my-site/css/site.css"]),
            "file": [
                SimpleUploadedFile("index.html", b"<h1>Hi</h1>"),
                SimpleUploadedFile("site.css", b"h1{}"),
            ],
        },
        **JSON,
    )
    assert page.status_code == 201, page.content
    body = page.json()
    assert sorted(body["files"]) == ["my-site/css/site.css", "my-site/index.html"]
    assert body["storage"]["used"] == 15
    assert listing(site, "my-site") == ["css", "index.html"]


def test_plain_form_upload_and_zip_extraction(web, site):
    archive = make_zip({"index.html": b"<p>zip</p>", "img/a.svg": b"<svg/>"})
    page = web.post(
        url("files-upload", site),
        {"folder": "", "extract": "1", "file": SimpleUploadedFile("site.zip", archive)},
        follow=True,
    )
    assert "Uploaded 2 files." in page.text
    assert listing(site) == ["img", "index.html"]


def test_upload_errors_are_clear_and_write_nothing(web, site):
    Site.objects.filter(pk=site.pk).update(storage_limit=10)
    page = web.post(
        url("files-upload", site),
        {
            "folder": "",
            "file": [
                SimpleUploadedFile("a.txt", b"123456"),
                SimpleUploadedFile("b.txt", b"123456"),
            ],
        },
        **JSON,
    )
    assert page.status_code == 413
    assert page.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert listing(site) == []
    page = web.post(
        url("files-upload", site),
        {"folder": "../x", "file": SimpleUploadedFile("a.txt", b"1")},
        **JSON,
    )
    assert page.status_code == 422 and page.json()["error"]["code"] == "PATH_INVALID"
    page = web.post(
        url("files-upload", site),
        {
            "folder": "",
            "file": SimpleUploadedFile("a.txt", b"123456"),
            "paths": json.dumps(["../a.txt"]),
        },
        follow=True,
    )
    assert "climbs out of the site" in page.text
    site.refresh_from_db()
    assert site.storage_used == 0


def test_oversized_requests_get_413_before_the_body_is_read(web, site, settings):
    settings.SITE_UPLOAD_MAX_REQUEST_SIZE = 1
    big = b"x" * (1024 * 1024 + 4096)
    page = web.post(url("files-upload", site), {"file": SimpleUploadedFile("big.bin", big)}, **JSON)
    assert page.status_code == 413 and page.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    page = web.post(url("files-upload", site), {"file": SimpleUploadedFile("big.bin", big)})
    assert page.status_code == 413 and "Upload too large" in page.text
    assert listing(site) == []


def test_too_many_files_get_the_apis_413_page_and_no_error_in_the_log(web, site, settings, caplog):
    """More files than SITE_UPLOAD_MAX_FILES: the page says so (413, as the API does) instead of
    a generic 400 with an ERROR logged (Django refuses the body while it is read)."""
    settings.SITE_UPLOAD_MAX_FILES = settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(3)]
    with caplog.at_level("WARNING"):
        page = web.post(url("files-upload", site), {"folder": "", "file": files})
        answer = web.post(url("files-upload", site), {"folder": "", "file": files}, **JSON)
    assert page.status_code == 413 and "Upload too large" in page.text
    assert "send at most 2 at a time" in page.text
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
    assert listing(site) == []


def test_folder_rename_move_delete(web, site):
    files_upload(site=site, uploads=[upload("a.txt", b"aaa")])
    web.post(url("folder-create", site), {"folder": "", "name": "assets"})
    assert listing(site) == ["assets", "a.txt"]
    web.post(url("path-rename", site), {"path": "a.txt", "name": "b.txt"})
    web.post(url("path-move", site), {"path": "b.txt", "folder": "assets"})
    assert listing(site, "assets") == ["b.txt"]
    page = web.post(url("path-rename", site), {"path": "assets", "name": "../up"}, follow=True)
    assert "not names" in page.text or "climbs" in page.text or "contains" in page.text
    page = web.post(url("path-delete", site), {"path": "assets"}, follow=True)
    assert "Deleted the folder “assets” and the 1 file in it." in page.text
    assert listing(site) == []
    site.refresh_from_db()
    assert site.storage_used == 0


def test_delete_buttons_ask_for_confirmation(web, site):
    files_upload(site=site, uploads=[upload("a.txt", b"a")])
    html = web.get(url("site-files", site)).text
    assert 'data-confirm="Delete “a.txt”' in html


def test_download_a_file_and_a_folder_as_zip(web, site):
    files_upload(
        site=site, uploads=[upload("pub/index.html", b"<p>x</p>"), upload("pub/a.css", b"a")]
    )
    page = web.get(url("file-download", site, path="pub/index.html"))
    assert page.status_code == 200 and b"".join(page.streaming_content) == b"<p>x</p>"
    assert 'attachment; filename="index.html"' in page["Content-Disposition"]
    page = web.get(url("file-download", site, path="pub"))
    assert page["Content-Type"] == "application/zip" and "pub.zip" in page["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(page.streaming_content)))
    assert sorted(archive.namelist()) == ["a.css", "index.html"]
    whole = web.get(url("file-download", site))
    assert f"{site.slug}.zip" in whole["Content-Disposition"]
    assert web.get(url("file-download", site, path="nope"), follow=True).status_code == 200


def test_image_preview_is_sandboxed(web, site):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    files_upload(site=site, uploads=[upload("logo.svg", svg), upload("pic.png", b"\x89PNG")])
    page = web.get(url("file-preview", site, path="logo.svg"))
    assert page["Content-Type"] == "image/svg+xml"
    assert (
        "sandbox" in page["Content-Security-Policy"]
        and "default-src 'none'" in page["Content-Security-Policy"]
    )
    page = web.get(url("file-edit", site, path="pic.png"))
    assert "Preview of pic.png" in page.text
    files_upload(site=site, uploads=[upload("notes.txt", b"t")])
    assert web.get(url("file-preview", site, path="notes.txt")).status_code == 404


def test_edit_a_text_file_and_create_one(web, site):
    files_upload(site=site, uploads=[upload("index.html", b"<h1>Old</h1>\n")])
    page = web.get(url("file-edit", site, path="index.html"))
    assert "&lt;h1&gt;Old&lt;/h1&gt;" in page.text and "data-editor" in page.text
    page = web.post(url("file-edit", site, path="index.html"), {"content": "<h1>New</h1>\r\n"})
    assert page.status_code == 302
    assert ops.text_read(site=site, path="index.html") == "<h1>New</h1>\n"
    page = web.post(url("file-create", site), {"folder": "", "name": "about.html"})
    assert page.status_code == 302 and "about.html" in page.url
    assert ops.text_read(site=site, path="about.html") == ""


def test_editor_save_over_quota_keeps_the_text(web, site):
    files_upload(site=site, uploads=[upload("index.html", b"x")])
    Site.objects.filter(pk=site.pk).update(storage_limit=5)
    page = web.post(url("file-edit", site, path="index.html"), {"content": "much longer text"})
    assert page.status_code == 413 and "much longer text" in page.text
    assert ops.text_read(site=site, path="index.html") == "x"


def test_deploy_these_files_and_roll_back(web, site, alice):
    page = web.post(url("site-deploy", site), follow=True)
    assert "no files to deploy" in page.text
    files_upload(site=site, uploads=[upload("index.html", b"<h1>one</h1>")])
    page = web.post(url("site-deploy", site), follow=True)
    assert "Deployed 1 file (1 new)" in page.text
    first = Deployment.objects.get(site=site)
    ops.text_save(site=site, path="index.html", content="<h1>two</h1>")
    web.post(url("site-deploy", site))
    site.refresh_from_db()
    second = site.live_deployment
    assert second != first and site.status == Site.Status.ONLINE
    html = web.get(url("site-deployments", site)).text
    assert html.count("data-live") == 1 and "Roll back" in html
    assert reverse("hosting:site-rollback", args=[site.pk, first.pk]) in html
    assert reverse("hosting:site-rollback", args=[site.pk, second.pk]) not in html
    page = web.post(reverse("hosting:site-rollback", args=[site.pk, first.pk]), follow=True)
    assert "Rolled back" in page.text
    site.refresh_from_db()
    restored = site.live_deployment
    assert restored.source == Deployment.Source.ROLLBACK and restored.restored_from == first
    assert restored.manifest_id == first.manifest_id and restored.author == alice


def test_deployments_tab_tells_git_builds_apart_and_links_each_deployment(web, site, alice):
    builds = [
        Deployment.objects.create(
            site=site,
            author=alice,
            source=Deployment.Source.GIT,
            status=Deployment.Status.SUCCESS,
            commit_hash=digit * 40,
            commit_message=message,
        )
        for digit, message in (("1", "First version"), ("2", "Fix the header"))
    ]
    html = web.get(url("site-deployments", site)).text
    for deployment in builds:
        assert f'<a href="{reverse("deployments:detail", args=[deployment.pk])}">Git</a>' in html
        assert deployment.commit_hash[:7] in html
    assert "First version" in html and "Fix the header" in html
    assert "(commit 1111111) live again?" in html


def test_deployments_tab_query_count(web, site, alice, django_assert_max_num_queries):
    files_upload(site=site, uploads=[upload("index.html", b"v")])
    from hosting import services

    for i in range(6):
        ops.text_save(site=site, path="index.html", content=f"v{i}")
        services.site_deploy(site=site, author=alice)
    # 12: constant in the number of deployments (the membership check, the team switcher and
    # the site's backup alerts are three of them); a query per row would break it.
    with django_assert_max_num_queries(12):
        page = web.get(url("site-deployments", site))
    assert page.text.count("data-deployment=") == 6


def test_nobody_else_can_roll_back_or_touch_files(client, site, bob_site, bob, alice):
    files_upload(site=site, uploads=[upload("index.html", b"alice")])
    from hosting import services

    deployment = services.site_deploy(site=site, author=alice)
    client.force_login(bob)
    # Bob's own site in the URL does not let him restore alice's deployment.
    rollback = reverse("hosting:site-rollback", args=[bob_site.pk, deployment.pk])
    assert client.post(rollback).status_code == 404
    for name, data in [
        ("path-rename", {"path": "index.html", "name": "x.html"}),
        ("path-move", {"path": "index.html", "folder": "x"}),
        ("path-delete", {"path": "index.html"}),
        ("folder-create", {"folder": "", "name": "x"}),
        ("file-create", {"folder": "", "name": "x.html"}),
    ]:
        assert client.post(url(name, site), data).status_code == 404, name
    for name in ("file-edit", "file-preview", "file-download"):
        assert client.get(url(name, site, path="index.html")).status_code == 404, name
    assert listing(site) == ["index.html"]
    assert Deployment.objects.filter(site=site).count() == 1


def test_free_space_reads_in_the_same_unit_as_the_limit(web, site):
    Site.objects.filter(pk=site.pk).update(storage_limit=1024**3)
    files_upload(site=site, uploads=[upload("index.html", b"<h1>hi</h1>")])
    html = web.get(url("site-files", site)).text
    assert "1.0\xa0GB free of the site's 1.0\xa0GB." in html
    assert "1024.0\xa0MB" not in html
