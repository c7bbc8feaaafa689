"""Creating, changing and deleting sites. Every write to a site goes through here."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from hosting.models import RESERVED_SLUGS, Site


def slug_suggest(name: str) -> str:
    """A free DNS-safe address from a name: “My Blog!” -> “my-blog”, then “my-blog-2”, …"""
    base = re.sub(r"-{2,}", "-", slugify(name or "").replace("_", "-")).strip("-")[:50] or "site"
    if base in RESERVED_SLUGS:
        base = f"{base}-site"
    candidate, n = base, 1
    while Site.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}" if n < 50 else f"{base}-{secrets.token_hex(3)}"
    return candidate


def site_create(*, owner, name: str, slug: str = "", kind: str = Site.Kind.STATIC) -> Site:
    """Create a site owned by ``owner``; its address is ``slug`` or one made from the name."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the site a name."]})
    slug = (slug or "").strip().lower() or slug_suggest(name)
    site = Site(
        owner=owner,
        name=name,
        slug=slug,
        kind=kind,
        status=Site.Status.PROVISIONING,
        storage_limit=settings.SITE_STORAGE_LIMIT,
        bandwidth_limit=settings.SITE_BANDWIDTH_LIMIT,
    )
    site.full_clean()
    try:
        with transaction.atomic():
            site.save(force_insert=True)
    except IntegrityError as exc:
        raise ValidationError({"slug": ["That address is taken; choose another."]}) from exc
    return site
