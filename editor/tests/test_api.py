"""``/api/editor``: templates, pages, the document with conflicts, revisions, preview and
publish; scoped by team (viewers read, another team gets 404)."""

from __future__ import annotations

import pytest

from conftest import bearer_client
from deployments.models import Deployment
from editor import services
from editor.models import Page
from hosting.services import site_create
from teams.models import Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(alice):
    return site_create(owner=alice, name="Api Pages", slug="api-pages")


def doc(words: str) -> dict:
    return {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {
                                    "type": "text",
                                    "tagName": "h1",
                                    "components": [{"type": "textnode", "content": words}],
                                }
                            ],
                        }
                    }
                ]
            }
        ],
        "styles": [{"selectors": ["x"], "style": {"color": "red"}}],
    }


def test_templates_list_and_detail(api):
    answer = api.get("/api/editor/templates")
    assert answer.status_code == 200
    slugs = [t["slug"] for t in answer.json()["templates"]]
    assert {
        "landing",
        "portfolio",
        "blog-article",
        "documentation",
        "local-business",
        "coming-soon",
    } <= set(slugs)
    detail = api.get("/api/editor/templates/documentation").json()
    assert detail["pages"][0]["document"]["pages"][0]["frames"]
    assert api.get("/api/editor/templates/nope").json()["error"]["code"] == "TEMPLATE_NOT_FOUND"


def test_pages_from_a_template_edit_conflict_revisions_preview_publish(api, site):
    url = f"/api/editor/sites/{site.pk}/pages"
    created = api.post(url, {"template": "coming-soon"}, format="json")
    assert created.status_code == 201
    page = created.json()["pages"][0]
    assert page["isHome"] and page["path"] == "/" and page["revision"] == 1
    added = api.post(url, {"title": "Contact us"}, format="json").json()["pages"][0]
    assert added["slug"] == "contact-us" and added["path"] == "/contact-us/"
    listing = api.get(url).json()
    assert [p["slug"] for p in listing["pages"]] == ["home", "contact-us"]
    assert listing["pagination"]["totalItems"] == 2

    patched = api.patch(
        f"/api/editor/pages/{added['id']}",
        {
            "title": "Contact",
            "slug": "contact",
            "socialImage": "/card.png",
            "description": "Write to us",
        },
        format="json",
    )
    assert patched.status_code == 200
    assert (patched.json()["path"], patched.json()["socialImage"]) == ("/contact/", "/card.png")
    bad = api.patch(f"/api/editor/pages/{added['id']}", {"slug": "Bad slug!"}, format="json")
    assert bad.status_code == 422 and "slug" in bad.json()["error"]["details"]

    document_url = f"/api/editor/pages/{page['id']}/document"
    loaded = api.get(document_url).json()
    assert loaded["revision"] == 1 and loaded["document"]["pages"]
    saved = api.put(document_url, {"document": doc("Hello"), "baseRevision": 1}, format="json")
    assert saved.status_code == 200 and saved.json()["revision"] == 2
    # Another tab, still at revision 1: 409 CONFLICT, with the revision to reload.
    stale = api.put(document_url, {"document": doc("Other tab"), "baseRevision": 1}, format="json")
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "CONFLICT" and error["details"]["currentRevision"] == 2
    assert "Hello" in str(api.get(document_url).json()["document"])
    invalid = api.put(document_url, {"document": [], "baseRevision": 2}, format="json")
    assert invalid.status_code == 422 and "document" in invalid.json()["error"]["details"]

    revisions = api.get(f"/api/editor/pages/{page['id']}/revisions").json()
    assert [r["number"] for r in revisions["revisions"]] == [2, 1]
    first = api.get(f"/api/editor/pages/{page['id']}/revisions/1").json()
    assert first["reason"] == "created" and first["document"]["pages"]
    restored = api.post(f"/api/editor/pages/{page['id']}/revisions/1/restore")
    assert restored.status_code == 200 and restored.json()["revision"] == 3
    assert api.post(f"/api/editor/pages/{page['id']}/revisions/9/restore").status_code == 404

    preview = api.get(f"/api/editor/pages/{page['id']}/preview").json()
    assert "Something bright" in preview["html"] and preview["revision"] == 3

    copy = api.post(f"/api/editor/pages/{added['id']}/duplicate")
    assert copy.status_code == 201 and copy.json()["slug"] == "contact-copy"
    assert api.delete(f"/api/editor/pages/{copy.json()['id']}").status_code == 204

    published = api.post(f"/api/editor/sites/{site.pk}/publish")
    assert published.status_code == 201
    body = published.json()
    assert body["source"] == "editor" and body["isLive"] and body["url"] == site.url
    assert (
        Deployment.objects.get(pk=body["id"])
        .manifest.entries.filter(path="contact/index.html")
        .exists()
    )


def test_publish_without_pages_says_why(api, site):
    answer = api.post(f"/api/editor/sites/{site.pk}/publish")
    assert answer.status_code == 422
    assert "no editor pages" in answer.json()["error"]["message"]


def test_viewers_read_and_other_teams_get_404(site, alice, bob, charlie):
    page = services.page_create(site=site, title="Home", author=alice)
    Membership.objects.create(team=site.team, user=bob, role=Role.VIEWER)
    viewer = bearer_client(bob)
    assert viewer.get(f"/api/editor/pages/{page.pk}/document").status_code == 200
    assert viewer.get(f"/api/editor/sites/{site.pk}/pages").status_code == 200
    refused = viewer.put(
        f"/api/editor/pages/{page.pk}/document",
        {"document": doc("x"), "baseRevision": 1},
        format="json",
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert viewer.post(f"/api/editor/sites/{site.pk}/publish").status_code == 403
    assert viewer.delete(f"/api/editor/pages/{page.pk}").status_code == 403

    outsider = bearer_client(charlie)
    for url in (
        f"/api/editor/pages/{page.pk}",
        f"/api/editor/pages/{page.pk}/document",
        f"/api/editor/pages/{page.pk}/revisions",
        f"/api/editor/pages/{page.pk}/preview",
    ):
        answer = outsider.get(url)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "PAGE_NOT_FOUND"
    assert outsider.get(f"/api/editor/sites/{site.pk}/pages").status_code == 404
    assert Page.objects.get(pk=page.pk).revision == 1


def test_html_pages_are_scoped_too(client, site, alice, charlie):
    page = services.page_create(site=site, title="Home", author=alice)
    client.force_login(charlie)
    for url in (
        f"/sites/{site.pk}/pages/",
        f"/pages/{page.pk}/edit/",
        f"/pages/{page.pk}/preview/",
        f"/pages/{page.pk}/revisions/",
    ):
        assert client.get(url).status_code == 404
    client.force_login(alice)
    editor = client.get(f"/pages/{page.pk}/edit/")
    assert editor.status_code == 200
    csp = editor["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp
    preview = client.get(f"/pages/{page.pk}/preview/")
    assert "sandbox" in preview["Content-Security-Policy"]


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000105e6275a0000000049454e44ae426082"
)


def test_images_go_into_the_site_files_with_type_and_quota_checks(api, site, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hosting.files import operations as ops
    from hosting.models import Site

    url = f"/api/editor/sites/{site.pk}/assets"
    assert api.get(url).json() == {"data": []}
    sent = api.post(
        url, {"file": SimpleUploadedFile("Logo.png", PNG, "image/png")}, format="multipart"
    )
    assert sent.status_code == 201
    asset = sent.json()["data"][0]
    assert asset["path"] == "assets/images/Logo.png"
    assert asset["src"] == f"/sites/{site.pk}/files/preview/?path=assets/images/Logo.png"
    # The same name again is kept beside the first, so pages using it keep their image.
    again = api.post(
        url, {"file": SimpleUploadedFile("Logo.png", PNG, "image/png")}, format="multipart"
    ).json()["data"][0]
    assert again["path"] == "assets/images/Logo-2.png"
    assert [a["name"] for a in api.get(url).json()["data"]] == ["Logo-2.png", "Logo.png"]

    fake = api.post(
        url, {"file": SimpleUploadedFile("x.png", b"<script>", "image/png")}, format="multipart"
    )
    assert fake.status_code == 422 and "not a PNG image" in fake.json()["error"]["message"]
    other = api.post(
        url, {"file": SimpleUploadedFile("x.html", b"<p>", "text/html")}, format="multipart"
    )
    assert other.status_code == 422

    Site.objects.filter(pk=site.pk).update(storage_limit=site.storage_used + len(PNG) * 2 + 10)
    full = api.post(
        url, {"file": SimpleUploadedFile("big.png", PNG * 3, "image/png")}, format="multipart"
    )
    assert full.status_code == 413 and full.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert ops.path_kind(site=site, path="assets/images/big.png") is None

    # A page using the image publishes it at the site's own path.
    document = {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {
                                    "type": "image",
                                    "attributes": {"src": asset["src"], "alt": "Logo"},
                                },
                            ],
                        }
                    }
                ]
            }
        ]
    }
    Site.objects.filter(pk=site.pk).update(storage_limit=10**9)
    services.page_create(site=site, title="Home", author=alice, document=document)
    deployment = api.post(f"/api/editor/sites/{site.pk}/publish").json()
    entries = Deployment.objects.get(pk=deployment["id"]).manifest.entries
    assert entries.filter(path="assets/images/Logo.png").exists()
    html = ops.text_read(site=site, path="index.html")
    assert '<img src="/assets/images/Logo.png" alt="Logo">' in html
