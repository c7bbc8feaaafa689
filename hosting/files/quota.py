"""Storage accounting: ``Site.storage_used`` is the exact size of a site's working files.

The file operations and uploads count against the quota here; ``hosting.services`` re-exports
these for everyone else.
"""

from __future__ import annotations

from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.template.defaultfilters import filesizeformat

from hosting.files.backends import tree_for
from hosting.files.errors import QuotaExceeded
from hosting.models import Site


def files_total(*, site: Site) -> tuple[int, int]:
    """(file count, bytes) of the working tree, read from storage."""
    count = total = 0
    for entry in tree_for(site.pk).walk(""):
        count += 1
        total += entry.size
    return count, total


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
    _, total = files_total(site=site)
    Site.objects.filter(pk=site.pk).update(storage_used=total)
    site.storage_used = total
    return total
