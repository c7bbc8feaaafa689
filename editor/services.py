"""Editor pages: create, change, save, restore and publish. Every write goes through here.

A page's document is saved only on top of the revision it was loaded at: a save based on an
older revision (another tab saved since) is refused with ``RevisionConflict``, so nothing is
overwritten silently. Every save that changes the document is a new ``Revision``.

Publishing renders every page of the site from its stored document (``editor.render``), writes
the HTML and CSS into the site's working files (quota applies), and publishes those files as a
deployment with source "editor" through ``deployments.services.deployment_publish``: the same
path as uploads and builds, so rollback works as for any release.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from deployments.models import Deployment
from deployments.services import deployment_publish
from editor.documents import DocumentInvalid, document_prepare, empty_document
from editor.models import Page, Publication, Revision, Template
from editor.render import document_render, page_html
from editor.selectors import asset_base, page_nav, site_nav_pages
from hosting.files.errors import PathInvalid, TooLarge
from hosting.files.operations import files_for_publish, path_delete, path_kind, text_save
from hosting.files.paths import clean_segment
from hosting.files.uploads import Upload, files_upload
from hosting.models import Site

PAGE_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
RESERVED_SLUGS = frozenset({"assets", "index", "static", "api", "_redirects", "_headers"})
CSS_FOLDER = "assets/pages"
ASSET_FOLDER = "assets/images"
# What an image's first bytes must be, by extension (SVG: text that holds an <svg> element).
IMAGE_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
    ".avif": (),
    ".svg": (),
}


class RevisionConflict(Exception):
    """The page was saved elsewhere since the revision this save is based on."""

    def __init__(self, page: Page):
        self.page = page
        super().__init__(
            f"This page was saved elsewhere (revision {page.revision}) since you loaded it. "
            "Reload to get that version, or overwrite it with yours."
        )


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")[:60].strip("-")
    return slug or "page"


def _slug_check(slug: str) -> str:
    slug = (slug or "").strip().lower()
    if not PAGE_SLUG.match(slug):
        raise ValidationError(
            {"slug": ["Use lowercase letters, digits and dashes (e.g. “about-us”)."]}
        )
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": [f"“{slug}” is reserved; choose another address."]})
    return slug


def _free_slug(site: Site, base: str, exclude=None) -> str:
    base = _slugify(base)
    if base in RESERVED_SLUGS:
        base = f"{base}-page"
    taken = set(Page.objects.filter(site=site).exclude(pk=exclude).values_list("slug", flat=True))
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base[:55]}-{n}"
    return candidate


def _title_check(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": ["Give the page a title."]})
    if len(title) > 120:
        raise ValidationError({"title": ["Keep the title under 120 characters."]})
    return title


def _social_image_check(value: str) -> str:
    value = (value or "").strip()
    if (value and not (value.startswith("https://") or value.startswith("/"))) or len(value) > 500:
        raise ValidationError(
            {"social_image": ["Give an https:// address or a path on the site (“/img/card.png”)."]}
        )
    if value.startswith("//"):
        raise ValidationError({"social_image": ["Give an https:// address or a path on the site."]})
    return value


def _document_or_error(data) -> tuple[str, str]:
    try:
        return document_prepare(data)
    except DocumentInvalid as exc:
        raise ValidationError({"document": exc.messages}) from exc


def page_create(
    *,
    site: Site,
    title: str,
    author=None,
    slug: str = "",
    description: str = "",
    document=None,
    make_home: bool | None = None,
) -> Page:
    """Add a page to ``site`` (empty, or with ``document``); the site's first page is its home."""
    title = _title_check(title)
    slug = _slug_check(slug) if slug else _free_slug(site, title)
    text, digest = _document_or_error(document if document is not None else empty_document())
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=site.pk).first()
        has_home = Page.objects.filter(site=site, is_home=True).exists()
        position = (Page.objects.filter(site=site).aggregate(m=Max("position"))["m"] or 0) + 1
        page = Page(
            site=site,
            slug=slug,
            title=title,
            description=(description or "").strip()[:300],
            is_home=not has_home if make_home is None else make_home and not has_home,
            position=position,
            document=text,
            revision=1,
        )
        try:
            with transaction.atomic():
                page.save(force_insert=True)
        except IntegrityError as exc:
            raise ValidationError(
                {"slug": [f"The site already has a page at /{slug}/; choose another address."]}
            ) from exc
        Revision.objects.create(
            page=page,
            number=1,
            document=text,
            digest=digest,
            size=len(text.encode()),
            reason=Revision.Reason.CREATED,
            author=author,
        )
    return page


def pages_from_template(*, site: Site, template: Template, author=None) -> list[Page]:
    """Create the template's pages in ``site`` (addresses kept free of the site's own pages)."""
    pages = []
    with transaction.atomic():
        for spec in template.pages:
            slug = _free_slug(site, spec.get("slug") or spec.get("title") or "page")
            pages.append(
                page_create(
                    site=site,
                    title=spec.get("title") or template.name,
                    slug=slug,
                    description=spec.get("description") or "",
                    document=spec.get("document") or empty_document(),
                    author=author,
                )
            )
    return pages


def page_update(
    *,
    page: Page,
    title: str | None = None,
    slug: str | None = None,
    description: str | None = None,
    social_image: str | None = None,
) -> Page:
    """Rename a page, move it to another address, or change what search engines and social
    networks show for it."""
    changes = {}
    if title is not None:
        changes["title"] = _title_check(title)
    if slug is not None and slug != page.slug:
        changes["slug"] = _slug_check(slug)
        if (
            Page.objects.filter(site_id=page.site_id, slug=changes["slug"])
            .exclude(pk=page.pk)
            .exists()
        ):
            raise ValidationError(
                {"slug": [f"The site already has a page at /{changes['slug']}/."]}
            )
    if description is not None:
        description = description.strip()
        if len(description) > 300:
            raise ValidationError({"description": ["Keep the description under 300 characters."]})
        changes["description"] = description
    if social_image is not None:
        changes["social_image"] = _social_image_check(social_image)
    if changes:
        changes["updated_at"] = timezone.now()
        try:
            with transaction.atomic():
                Page.objects.filter(pk=page.pk).update(**changes)
        except IntegrityError as exc:
            raise ValidationError(
                {"slug": ["The site already has a page at that address."]}
            ) from exc
        for name, value in changes.items():
            setattr(page, name, value)
    return page


def page_set_home(*, page: Page) -> Page:
    """Make ``page`` the one published at the site's address."""
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=page.site_id).first()
        Page.objects.filter(site_id=page.site_id, is_home=True).exclude(pk=page.pk).update(
            is_home=False
        )
        Page.objects.filter(pk=page.pk).update(is_home=True, updated_at=timezone.now())
    page.is_home = True
    return page


def page_duplicate(*, page: Page, author=None) -> Page:
    """A copy of the page (its current document) under a free address."""
    return page_create(
        site=page.site,
        title=f"{page.title} (copy)"[:120],
        slug=_free_slug(page.site, f"{page.slug}-copy"),
        description=page.description,
        document=json.loads(page.document),
        author=author,
        make_home=False,
    )


def page_delete(*, page: Page) -> None:
    """Delete a page and its revisions; if it was the home, the next page becomes the home.
    Its published files go at the next publish."""
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=page.site_id).first()
        was_home = page.is_home
        page.delete()
        if was_home:
            successor = Page.objects.filter(site_id=page.site_id).order_by("position").first()
            if successor is not None:
                Page.objects.filter(pk=successor.pk).update(is_home=True)


@dataclass(frozen=True)
class SaveResult:
    page: Page
    revision: int
    changed: bool


def document_save(*, page: Page, document, base_revision: int | None, author=None) -> SaveResult:
    """Store a new document for ``page`` if ``base_revision`` is still its latest revision.

    ``base_revision=None`` overwrites whatever was saved since (the "overwrite" of a conflict).
    Saving the same document again makes no new revision."""
    text, digest = _document_or_error(document)
    with transaction.atomic():
        locked = Page.objects.select_for_update().get(pk=page.pk)
        if base_revision is not None and base_revision != locked.revision:
            raise RevisionConflict(locked)
        last = Revision.objects.filter(page=locked, number=locked.revision).first()
        if last is not None and last.digest == digest:
            return SaveResult(page=locked, revision=locked.revision, changed=False)
        locked.revision += 1
        locked.document = text
        locked.updated_at = timezone.now()
        locked.save(update_fields=["revision", "document", "updated_at"])
        Revision.objects.create(
            page=locked,
            number=locked.revision,
            document=text,
            digest=digest,
            size=len(text.encode()),
            author=author,
        )
    return SaveResult(page=locked, revision=locked.revision, changed=True)


def revision_restore(*, page: Page, number: int, author=None) -> SaveResult:
    """Make an earlier revision's document the page's current one (a new revision)."""
    try:
        old = Revision.objects.get(page=page, number=number)
    except Revision.DoesNotExist as exc:
        raise ValidationError(
            {"revision": [f"Page “{page.title}” has no revision {number}."]}
        ) from exc
    with transaction.atomic():
        locked = Page.objects.select_for_update().get(pk=page.pk)
        locked.revision += 1
        locked.document = old.document
        locked.updated_at = timezone.now()
        locked.save(update_fields=["revision", "document", "updated_at"])
        Revision.objects.create(
            page=locked,
            number=locked.revision,
            document=old.document,
            digest=old.digest,
            size=old.size,
            reason=Revision.Reason.RESTORE,
            restored_from=old.number,
            author=author,
        )
    return SaveResult(page=locked, revision=locked.revision, changed=True)


def asset_upload(*, site: Site, name: str, stream, size: int) -> str:
    """Store an image uploaded in the editor in the site's ``assets/images/`` (the site's quota
    and upload limits apply); answers its path. Only real images are taken, and a name already
    used gets a number, so pages using the older image keep it."""
    from django.conf import settings

    try:
        name = clean_segment(name or "")
    except PathInvalid as exc:
        raise ValidationError({"file": [exc.message]}) from exc
    stem, dot, ext = name.rpartition(".")
    ext = f".{ext.lower()}" if dot else ""
    if ext not in IMAGE_SIGNATURES:
        raise ValidationError({"file": ["Upload an image: PNG, JPEG, GIF, WebP, AVIF or SVG."]})
    if size > settings.EDITOR_ASSET_MAX_SIZE:
        raise TooLarge(
            f"“{name}” is {size / 1024 / 1024:.1f} MB; images in pages may be "
            f"{settings.EDITOR_ASSET_MAX_SIZE / 1024 / 1024:.1f} MB at most.",
            {"limit": settings.EDITOR_ASSET_MAX_SIZE, "size": size},
        )
    head = stream.read(512)
    stream.seek(0)
    signatures = IMAGE_SIGNATURES[ext]
    if ext == ".svg":
        ok = b"<svg" in head.lower() or b"<?xml" in head.lower()
    elif ext == ".avif":
        ok = head[4:12] in (b"ftypavif", b"ftypavis")
    else:
        ok = any(head.startswith(sig) for sig in signatures)
        if ext == ".webp":
            ok = ok and head[8:12] == b"WEBP"
    if not ok:
        raise ValidationError({"file": [f"“{name}” is not a {ext[1:].upper()} image."]})
    candidate, n = name, 1
    while path_kind(site=site, path=f"{ASSET_FOLDER}/{candidate}") is not None:
        n += 1
        candidate = f"{stem}-{n}{ext}"
    files_upload(
        site=site, folder=ASSET_FOLDER, uploads=[Upload(name=candidate, stream=stream, size=size)]
    )
    return f"{ASSET_FOLDER}/{candidate}"


def _page_files(page: Page, pages: list[Page], site: Site) -> list[tuple[str, str]]:
    rendered = document_render(
        page.document, nav=page_nav(pages=pages, current=page), asset_base=asset_base(site)
    )
    css_path = f"{CSS_FOLDER}/{page.slug}.css"
    html = page_html(
        title=page.title,
        description=page.description,
        social_image=page.social_image,
        site_name=site.name,
        body=rendered.body,
        css_href=f"/{css_path}",
    )
    html_path = "index.html" if page.is_home else f"{page.slug}/index.html"
    return [(html_path, html), (css_path, rendered.css)]


def site_render(*, site: Site) -> list[tuple[str, str]]:
    """Every editor page of the site as (path, text) files, in a stable order."""
    pages = site_nav_pages(site=site)
    files = []
    for page in pages:
        files.extend(_page_files(page, pages, site))
    return files


def site_publish(*, site: Site, author=None) -> Deployment:
    """Render every page, write the files into the site's working files, and publish them
    (with the site's other files) as a live deployment with source "editor"."""
    pages = site_nav_pages(site=site)
    if not pages:
        raise ValidationError(
            "The site has no editor pages yet; add a page or start from a template."
        )
    files = site_render(site=site)
    written = {path for path, _ in files}
    previous = Publication.objects.filter(site=site).order_by("-created_at").first()
    for path, text in files:
        text_save(site=site, path=path, content=text)
    for path in previous.paths if previous else []:
        if path not in written and path_kind(site=site, path=path) == "file":
            path_delete(site=site, path=path)
    deployment = deployment_publish(
        site=site,
        files=files_for_publish(site=site),
        source=Deployment.Source.EDITOR,
        author=author,
    )
    Publication.objects.create(
        site=site,
        deployment=deployment,
        revisions={str(p.pk): p.revision for p in pages},
        paths=sorted(written),
        author=author,
    )
    return deployment


def template_sync_builtin(starters: list[dict]) -> None:
    """Create or update the templates shipped with Berth (``editor/starters/``)."""
    for position, spec in enumerate(starters):
        Template.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "description": spec.get("description", ""),
                "category": spec.get("category", ""),
                "pages": spec["pages"],
                "builtin": True,
                "position": position,
            },
        )
