"""Reads of editor pages, revisions and templates for the pages and the API.

Pages are found among the user's teams (``for_member``): another team's page is not found."""

from __future__ import annotations

from urllib.parse import quote

from django.db.models import QuerySet
from django.urls import reverse

from editor.models import Page, Publication, Revision, Template
from editor.render import NavLink, document_render, page_html
from hosting.models import Site


def asset_base(site: Site) -> str:
    """The panel address images of the site's files are shown at in the editor (team members
    only); publishing turns ``<asset_base><path>`` into the site's own ``/<path>``."""
    return reverse("hosting:file-preview", args=[site.pk]) + "?path="


def asset_list(*, site: Site) -> list[dict]:
    """The images uploaded from the editor (``assets/images/``), for every page of the site."""
    from hosting.files.errors import FileError
    from hosting.files.operations import folder_list
    from hosting.files.paths import is_image

    try:
        entries = folder_list(site=site, folder="assets/images")
    except FileError:
        return []
    base = asset_base(site)
    return [
        {"src": base + quote(e.path), "name": e.name, "path": e.path, "size": e.size}
        for e in entries
        if not e.is_dir and is_image(e.path)
    ]


def page_get(*, user, pk) -> Page:
    """A page of one of ``user``'s teams (raises Page.DoesNotExist otherwise)."""
    return Page.objects.for_member(user).select_related("site", "site__team").get(pk=pk)


def page_list(*, site: Site) -> QuerySet:
    return Page.objects.filter(site=site).order_by("-is_home", "position", "created_at")


def site_nav_pages(*, site: Site) -> list[Page]:
    """The site's pages in navigation order: the home first, then by position."""
    return list(page_list(site=site))


def page_nav(*, pages: list[Page], current: Page | None = None) -> list[NavLink]:
    return [
        NavLink(
            title="Home" if p.is_home else p.title,
            path=p.path,
            current=current is not None and p.pk == current.pk,
        )
        for p in pages
    ]


def revision_list(*, page: Page) -> QuerySet:
    return Revision.objects.filter(page=page).select_related("author").defer("document")


def revision_get(*, page: Page, number: int) -> Revision:
    return Revision.objects.select_related("author").get(page=page, number=number)


def template_list() -> QuerySet:
    return Template.objects.all()


def template_get(*, slug: str) -> Template:
    return Template.objects.get(slug=slug)


def publication_latest(*, site: Site) -> Publication | None:
    return (
        Publication.objects.filter(site=site)
        .select_related("deployment")
        .order_by("-created_at")
        .first()
    )


def page_preview_html(*, page: Page, document: str | None = None) -> str:
    """The page as it would be published (CSS inline), for the private preview."""
    pages = site_nav_pages(site=page.site)
    rendered = document_render(
        document if document is not None else page.document, nav=page_nav(pages=pages, current=page)
    )
    return page_html(
        title=page.title,
        description=page.description,
        social_image=page.social_image,
        site_name=page.site.name,
        body=rendered.body,
        inline_css=rendered.css,
    )


def unpublished_changes(*, site: Site, pages: list[Page]) -> bool:
    latest = publication_latest(site=site)
    if latest is None:
        return bool(pages)
    return {str(p.pk): p.revision for p in pages} != latest.revisions
