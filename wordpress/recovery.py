"""Bringing WordPress sites back after Berth itself was restored on a new machine (writes).

The panel's own backup holds every WordPress site's settings and its site-backup repository,
not its files or MariaDB database. ``wordpress_recover`` re-provisions a site whose install is
missing here (Unix user, database and user with the stored password, folder, wp-config and
PHP pool, through ``wordpress_provision``) and restores its newest successful backup into it
through the backups app's restore. ``manage.py wordpress_recover`` runs it for every site.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from backups.models import Backup, Restore
from backups.services import restore_create, restore_run
from hosting.models import Site
from wordpress import mariadb
from wordpress.layout import layout_for
from wordpress.models import WordPressSite
from wordpress.services import wordpress_pool_reconcile, wordpress_provision, wordpress_stop

log = logging.getLogger(__name__)

RESTORE_WAIT = 6 * 3600  # a restore a running worker took is waited for this long at most


@dataclass
class Recovery:
    """What recovering one site did: ``outcome`` is skipped, restored, empty or failed."""

    site: Site
    outcome: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


def recoverable_sites(slugs: list[str] | None = None):
    """The WordPress sites that were installed once (their settings hold a version), in slug
    order; ``slugs`` narrows them (an unknown one raises ``ValidationError``)."""
    sites = Site.objects.filter(kind=Site.Kind.WORDPRESS).select_related("wordpress", "team")
    if slugs:
        sites = sites.filter(slug__in=slugs)
        unknown = sorted(set(slugs) - set(sites.values_list("slug", flat=True)))
        if unknown:
            raise ValidationError(f"No WordPress site with the address {', '.join(unknown)}.")
    return list(sites.order_by("slug"))


def install_present(site_id) -> bool:
    """True when the site's folder and its MariaDB database both exist on this machine."""
    layout = layout_for(site_id)
    return layout.wp_content.is_dir() and mariadb.database_exists(layout.db_name)


def newest_backup(site: Site) -> Backup | None:
    """The newest succeeded backup of the site, leaving out the backups taken just before a
    restore (what a site held before something else was put back into it)."""
    safety = Restore.objects.filter(safety_backup__isnull=False).values("safety_backup")
    return (
        Backup.objects.filter(site=site, state=Backup.State.SUCCEEDED)
        .exclude(pk__in=safety)
        .order_by("-created_at")
        .first()
    )


def wordpress_recover(*, site: Site, force: bool = False) -> Recovery:
    """Re-provision ``site`` if its install is missing here (or ``force``), then restore its
    newest successful backup into it. Never raises for a site's own failure: the Recovery
    says what happened."""
    setup = WordPressSite.objects.filter(pk=site.pk).first()
    if setup is None or not setup.version:
        state = setup.get_state_display().lower() if setup else "no settings"
        return Recovery(site, "skipped", f"never installed ({state}); nothing to recover")
    try:
        present = install_present(site.pk)
    except mariadb.MariaDBError as exc:
        return Recovery(site, "failed", f"MariaDB: {exc}")
    if present and not force:
        return Recovery(site, "skipped", "installed on this machine; left alone")
    backup = newest_backup(site)
    was_offline = site.status == Site.Status.OFFLINE

    # Provisioning runs WordPress's installer when the database is empty, with a password
    # nobody knows (cleared once hashed): the site never shows WordPress's install page to a
    # stranger; the restore replaces it, or the owner signs in through the panel's link.
    WordPressSite.objects.filter(pk=site.pk).update(
        state=WordPressSite.State.QUEUED, admin_password=secrets.token_urlsafe(24)
    )
    done = wordpress_provision(site_id=site.pk)
    if done is None or done.state != WordPressSite.State.DONE:
        reason = done.error if done else "the site was deleted meanwhile"
        return Recovery(site, "failed", f"re-provisioning failed: {reason}")
    site.refresh_from_db()
    what = "re-provisioned" if not present else "provisioned again (--force)"

    if backup is None:
        outcome = Recovery(
            site,
            "empty",
            f"{what} EMPTY: the site has no successful backup. It runs a fresh WordPress; "
            "its owner signs in with the panel's one-time login link.",
        )
    else:
        outcome = _restore(site, backup, what)
    if was_offline:
        wordpress_stop(site=site)
    wordpress_pool_reconcile(site_id=site.pk)  # a suspended team's pool stays stopped
    return outcome


def _restore(site: Site, backup: Backup, what: str) -> Recovery:
    taken = backup.created_at.strftime("%Y-%m-%d %H:%M UTC")
    try:
        job = restore_create(backup=backup)
    except ValidationError as exc:
        return Recovery(site, "failed", f"{what}, but the restore was refused: {exc.messages[0]}")
    except Exception as exc:  # the job is saved before it is queued; run it here anyway
        log.warning("Queueing the restore of %s failed (%s); running it here.", site.slug, exc)
        job = Restore.objects.filter(backup=backup, state=Restore.State.QUEUED).first()
        if job is None:
            return Recovery(site, "failed", f"{what}, but the restore could not start: {exc}")
    finished = restore_run(restore_id=job.pk) or _wait(job.pk)
    if finished.state != Restore.State.SUCCEEDED:
        reason = finished.reason or f"still {finished.state}"
        return Recovery(
            site, "failed", f"{what}, but restoring the backup of {taken} failed: {reason}"
        )
    return Recovery(site, "restored", f"{what} and restored the backup of {taken}")


def _wait(restore_id) -> Restore:
    """A worker took the restore first: wait for it to end."""
    deadline = time.monotonic() + RESTORE_WAIT
    while True:
        job = Restore.objects.get(pk=restore_id)
        if job.state in Restore.FINAL_STATES or time.monotonic() > deadline:
            return job
        time.sleep(1)
