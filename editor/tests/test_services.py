"""Editor pages on PostgreSQL: templates make pages, saves make revisions, conflicts are refused,
publishing renders the stored document the same way every time and goes out as a deployment
that rollback restores."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from deployments.models import Deployment
from deployments.services import deployment_rollback
from editor import services
from editor.documents import document_prepare
from editor.models import Page, Revision, Template
from editor.render import document_render
from editor.selectors import page_nav
from editor.starters import load_starters
from hosting.files import operations as ops
from hosting.files.errors import QuotaExceeded
from hosting.models import Site
from hosting.services import site_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(alice):
    return site_create(owner=alice, name="Pages", slug="pages-site")


def text_document(words: str, *, cls: str = "lead", color: str = "#123456") -> dict:
    return {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {"type": "berth-nav", "tagName": "nav", "classes": ["berth-nav"]},
                                {
                                    "type": "text",
                                    "tagName": "p",
                                    "classes": [cls],
                                    "components": [{"type": "textnode", "content": words}],
                                },
                            ],
                        }
                    }
                ]
            }
        ],
        "styles": [
            {"selectors": [cls], "style": {"color": color, "font-size": "20px"}},
            {
                "selectors": [cls],
                "style": {"font-size": "16px"},
                "mediaText": "(max-width: 768px)",
                "atRuleType": "media",
            },
        ],
    }


def test_the_six_starters_are_installed_and_render_responsively():
    slugs = set(Template.objects.filter(builtin=True).values_list("slug", flat=True))
    assert slugs == {
        "landing",
        "portfolio",
        "blog-article",
        "documentation",
        "local-business",
        "coming-soon",
    }
    for starter in load_starters():
        for page in starter["pages"]:
            rendered = document_render(page["document"])
            assert "@media (max-width: 768px)" in rendered.css, starter["slug"]
            assert "<h1" in rendered.body or "<h2" in rendered.body


def test_a_template_creates_its_pages_with_a_home(site, alice):
    template = Template.objects.get(slug="local-business")
    pages = services.pages_from_template(site=site, template=template, author=alice)
    assert [(p.slug, p.is_home) for p in pages] == [("home", True), ("visit", False)]
    # Starting again from the same template keeps both sets under free addresses.
    again = services.pages_from_template(site=site, template=template, author=alice)
    assert [p.slug for p in again] == ["home-2", "visit-2"]
    assert Page.objects.filter(site=site, is_home=True).count() == 1
    assert all(p.revisions.count() == 1 for p in Page.objects.filter(site=site))


def test_page_list_operations(site, alice):
    home = services.page_create(site=site, title="Home", author=alice)
    about = services.page_create(site=site, title="About us", author=alice)
    assert home.is_home and not about.is_home and about.slug == "about-us"

    services.page_update(
        page=about,
        title="About",
        slug="about",
        description="Who we are",
        social_image="https://example.com/card.png",
    )
    about.refresh_from_db()
    assert (about.title, about.path, about.social_image) == (
        "About",
        "/about/",
        "https://example.com/card.png",
    )
    with pytest.raises(ValidationError) as error:
        services.page_update(page=about, slug="Not A Slug")
    assert "slug" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.page_update(page=about, slug=home.slug)
    with pytest.raises(ValidationError):
        services.page_update(page=about, social_image="javascript:alert(1)")

    copy = services.page_duplicate(page=about, author=alice)
    assert copy.slug == "about-copy" and copy.document == about.document and not copy.is_home

    services.page_set_home(page=about)
    assert list(Page.objects.filter(site=site, is_home=True)) == [about]
    services.page_delete(page=about)
    # The home is gone: the next page takes its place.
    assert Page.objects.filter(site=site, is_home=True).count() == 1


def test_every_save_is_a_revision_and_a_stale_one_is_refused(site, alice, bob):
    page = services.page_create(site=site, title="Home", author=alice)
    first = services.document_save(
        page=page, document=text_document("one"), base_revision=1, author=alice
    )
    assert (first.revision, first.changed) == (2, True)
    # The same document again: nothing new.
    same = services.document_save(page=page, document=text_document("one"), base_revision=2)
    assert (same.revision, same.changed) == (2, False)
    # A second tab still at revision 1 learns of the conflict; nothing is overwritten.
    with pytest.raises(services.RevisionConflict) as conflict:
        services.document_save(page=page, document=text_document("two"), base_revision=1)
    assert conflict.value.page.revision == 2
    page.refresh_from_db()
    assert "one" in page.document
    # It may overwrite on purpose; the overwritten version stays in the revisions.
    services.document_save(page=page, document=text_document("two"), base_revision=None)
    page.refresh_from_db()
    assert page.revision == 3 and "two" in page.document
    assert [r.number for r in page.revisions.all()] == [3, 2, 1]

    restored = services.revision_restore(page=page, number=2, author=bob)
    page.refresh_from_db()
    assert restored.revision == 4 and "one" in page.document
    last = Revision.objects.get(page=page, number=4)
    assert last.reason == Revision.Reason.RESTORE and last.restored_from == 2


def test_documents_are_validated_and_limited(site, settings):
    page = services.page_create(site=site, title="Home")
    for bad in ([], {"pages": []}, {"pages": [{"frames": []}]}, {"pages": [{}, {}]}):
        with pytest.raises(ValidationError) as error:
            services.document_save(page=page, document=bad, base_revision=1)
        assert "document" in error.value.message_dict
    settings.EDITOR_DOCUMENT_MAX_SIZE = 2048
    with pytest.raises(ValidationError) as error:
        services.document_save(page=page, document=text_document("x" * 4000), base_revision=1)
    assert "MB" in error.value.messages[0]
    deep = {"type": "text", "tagName": "div"}
    for _ in range(100):
        deep = {"tagName": "div", "components": [deep]}
    with pytest.raises(ValidationError):
        services.document_save(
            page=page,
            document={"pages": [{"frames": [{"component": {"components": [deep]}}]}]},
            base_revision=1,
        )


def test_active_content_is_cleaned_before_it_is_stored():
    text, _ = document_prepare(
        {
            "pages": [
                {
                    "frames": [
                        {
                            "component": {
                                "type": "wrapper",
                                "components": [
                                    {
                                        "tagName": "img",
                                        "attributes": {"src": "x", "onerror": "alert(1)"},
                                    },
                                    {
                                        "tagName": "a",
                                        "attributes": {"href": " jav\tascript:alert(1)"},
                                        "components": "x",
                                    },
                                    {
                                        "tagName": "iframe",
                                        "attributes": {
                                            "src": "javascript:alert(1)",
                                            "srcdoc": "<b>",
                                        },
                                    },
                                    {
                                        "type": "text",
                                        "content": "ok <script>alert(1)</script>"
                                        '<i onclick="x">i</i>',
                                    },
                                    {"type": "script", "script": "alert(1)"},
                                    {
                                        "tagName": "div",
                                        "attributes": {
                                            "title": "</script><script>alert(1)</script>"
                                        },
                                    },
                                ],
                            }
                        }
                    ]
                }
            ],
            "styles": [
                {
                    "selectors": ["a"],
                    "style": {
                        "background": "url(javascript:alert(1))",
                        "color": "red</style><script>",
                    },
                },
                {"selectors": [], "selectorsAdd": "body{}</style>", "style": {"color": "red"}},
            ],
        }
    )
    for bad in ("onerror", "onclick", "javascript", "srcdoc", "alert(1)</script><i", "</style"):
        assert bad not in text
    assert '"script"' not in text
    body = document_render(text).body
    assert '<div title="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"></div>' in body


def test_publishing_is_deterministic_and_a_deployment_that_rolls_back(site, alice):
    home = services.page_create(
        site=site, title="Home", author=alice, document=text_document("First words")
    )
    about = services.page_create(
        site=site, title="About", author=alice, document=text_document("About words")
    )
    # Uploaded files stay beside the editor's pages.
    ops.text_save(site=site, path="robots.txt", content="User-agent: *\n")

    first = services.site_publish(site=site, author=alice)
    assert first.source == Deployment.Source.EDITOR
    site.refresh_from_db()
    assert site.live_deployment_id == first.pk and site.status == Site.Status.ONLINE
    paths = set(first.manifest.entries.values_list("path", flat=True))
    assert paths == {
        "index.html",
        "about/index.html",
        "assets/pages/home.css",
        "assets/pages/about.css",
        "robots.txt",
    }
    stream, _, _ = ops.file_open(site=site, path="index.html")
    html = stream.read().decode()
    assert "First words" in html and '<a href="/about/">About</a>' in html
    assert '<a href="/" aria-current="page">Home</a>' in html
    stream, _, _ = ops.file_open(site=site, path="assets/pages/home.css")
    assert "@media (max-width: 768px){.lead{font-size:16px}}" in stream.read().decode()

    # The same documents give the same bytes: a second publish is the same manifest.
    again = services.site_publish(site=site, author=alice)
    assert again.manifest_id == first.manifest_id
    assert again.publish_stats.blobs_written == 0

    services.document_save(page=home, document=text_document("Second words"), base_revision=1)
    services.page_delete(page=about)
    second = services.site_publish(site=site, author=alice)
    second_paths = set(second.manifest.entries.values_list("path", flat=True))
    assert "about/index.html" not in second_paths and "robots.txt" in second_paths
    assert ops.path_kind(site=site, path="about/index.html") is None

    restored = deployment_rollback(deployment=first, author=alice)
    site.refresh_from_db()
    assert site.live_deployment_id == restored.pk and restored.manifest_id == first.manifest_id


def test_publishing_counts_against_the_site_quota(site, alice):
    services.page_create(site=site, title="Home", author=alice, document=text_document("Hi"))
    Site.objects.filter(pk=site.pk).update(storage_limit=100)
    site.refresh_from_db()
    with pytest.raises(QuotaExceeded):
        services.site_publish(site=site, author=alice)
    assert not Deployment.objects.filter(site=site).exists()


def test_reopening_shows_exactly_what_was_published(site, alice):
    page = services.page_create(
        site=site, title="Home", author=alice, document=text_document("Exactly this")
    )
    services.site_publish(site=site, author=alice)
    page.refresh_from_db()
    stored = json.loads(page.document)
    nav = page_nav(pages=[page], current=page)
    assert document_render(stored, nav=nav).body in ops.text_read(site=site, path="index.html")
