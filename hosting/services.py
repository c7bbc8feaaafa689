"""Creating, changing and deleting sites. Every write to a site goes through here."""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import slugify

from hosting.files.errors import QuotaExceeded
from hosting.hostnames import hostnames_changed
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
    site_id = site.pk
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))
    return site


def site_rename(*, site: Site, name: str) -> Site:
    """Change a site's display name (its address stays: links and DNS depend on it)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the site a name."]})
    site.name = name
    site.full_clean(validate_unique=False)
    Site.objects.filter(pk=site.pk).update(name=name, updated_at=timezone.now())
    return site


def site_set_offline(*, site: Site, offline: bool) -> Site:
    """Take a site offline (its address answers 503) or bring it back.

    Back online means "online" when a deployment is live, else "provisioning" until one is.
    """
    if offline:
        status = Site.Status.OFFLINE
    else:
        has_live = Site.objects.filter(pk=site.pk, live_deployment__isnull=False).exists()
        status = Site.Status.ONLINE if has_live else Site.Status.PROVISIONING
    Site.objects.filter(pk=site.pk).update(status=status, updated_at=timezone.now())
    site.status = status
    site_id = site.pk
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))
    return site


def site_delete(*, site: Site) -> None:
    """Delete a site, its deployments (cascade) and its working files.

    Blobs the deployments used stay until garbage collection finds them unreferenced.
    The files go after the transaction commits, so a failed delete keeps them.
    """
    from hosting.files.backends import tree_for

    site_id = site.pk
    tree = tree_for(site_id)
    with transaction.atomic():
        Site.objects.filter(pk=site_id).update(live_deployment=None)
        Site.objects.filter(pk=site_id).delete()
    transaction.on_commit(tree.remove_all)
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))


def site_deploy(*, site: Site, author=None):
    """Publish the site's working files as a new immutable deployment and make it live."""
    from deployments.models import Deployment, Project
    from deployments.services import deployment_publish
    from hosting.files.operations import files_for_publish

    files = files_for_publish(site=site)
    if not files:
        project = Project.objects.filter(site=site).first()
        if project is not None:
            raise ValidationError(
                f"This site is built from {project.repository}; use “Deploy latest” to build "
                f"the head of {project.branch}."
            )
        raise ValidationError("There are no files to deploy yet; upload some first.")
    return deployment_publish(
        site=site, files=files, source=Deployment.Source.UPLOAD, author=author
    )


# --- Storage accounting: Site.storage_used is the exact size of the working files -------------


def _quota_error(site: Site, delta: int) -> QuotaExceeded:
    site.refresh_from_db(fields=["storage_used", "storage_limit"])
    free = max(0, site.storage_limit - site.storage_used)
    return QuotaExceeded(
        f"This needs {filesizeformat(delta)} but the site has {filesizeformat(free)} free of "
        f"{filesizeformat(site.storage_limit)}. Delete files or upload less.",
        {"needed": delta, "available": free, "limit": site.storage_limit},
    )


def site_storage_check(*, site: Site, delta: int) -> None:
    """Raise QuotaExceeded when ``delta`` more bytes would not fit (nothing is reserved)."""
    if delta <= 0:
        return
    fits = Site.objects.filter(pk=site.pk, storage_used__lte=F("storage_limit") - delta).exists()
    if not fits:
        raise _quota_error(site, delta)


def site_storage_reserve(*, site: Site, delta: int) -> None:
    """Count ``delta`` bytes against the quota in one UPDATE, or raise QuotaExceeded.

    The UPDATE's condition makes two concurrent uploads unable to overrun the quota together.
    """
    if delta <= 0:
        site_storage_adjust(site=site, delta=delta)
        return
    updated = Site.objects.filter(pk=site.pk, storage_used__lte=F("storage_limit") - delta).update(
        storage_used=F("storage_used") + delta
    )
    if not updated:
        raise _quota_error(site, delta)
    site.storage_used += delta


def site_storage_adjust(*, site: Site, delta: int) -> None:
    """Free (negative) or count bytes without a quota check (deletes, corrections)."""
    if delta:
        Site.objects.filter(pk=site.pk).update(
            storage_used=Greatest(F("storage_used") + delta, Value(0))
        )
        site.storage_used = max(0, site.storage_used + delta)


def site_storage_recount(*, site: Site) -> int:
    """Measure the working files in storage and store the exact total."""
    from hosting.files.operations import files_total

    _, total = files_total(site=site)
    Site.objects.filter(pk=site.pk).update(storage_used=total)
    site.storage_used = total
    return total
