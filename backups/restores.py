"""Restores (writes): a backup put back into its own site, or into a new site of the team.

A restore is a job with phases, and until its last phase it changes nothing on the site:

1. ``safety`` — restoring into the site it came from, a before-restore backup is taken first
   (a restore can itself be undone);
2. ``fetching`` — the snapshot is restored into a scratch folder and its files are checked
   against the backup's record (sha256);
3. ``preparing`` — WordPress: the dump is loaded into a scratch database and the restored
   ``wp-content`` is staged beside the live one, owned by the site's Unix user; a static site:
   the restored release is published as a new immutable deployment (not yet live);
4. ``switching`` — WordPress, in maintenance mode: one ``RENAME TABLE`` swaps the loaded tables
   in (the old ones kept aside), one ``renameat2(RENAME_EXCHANGE)`` swaps the folders; a static
   site: its working files are replaced and the live pointer switches to the new deployment.

A restore that fails or is killed during ``switching`` is rolled back (by itself, or by the
reaper when its worker died): the old tables and folder are swapped back, the pointer goes back
to the release that was live, and the working files come back from the before-restore backup.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backups import database, jobs, restic
from backups.models import Backup, Restore
from backups.runs import (
    BackupFailed,
    backup_run,
    checksums,
    finish,
    reason_of,
    repository_for,
    scratch,
    staged_in,
)
from controlpanel.enqueue import enqueue_on_commit
from deployments.models import Deployment
from deployments.services import deployment_activate, deployment_publish, directory_files
from deployments.signals import live_deployment_changed
from editor.models import Page
from hosting.files.backends import tree_for
from hosting.files.quota import site_storage_recount
from hosting.models import Site
from hosting.services import site_create
from teams.audit import audit_record
from wordpress import system
from wordpress.layout import layout_for
from wordpress.models import WordPressSite

log = logging.getLogger(__name__)

RESTORE_TASK = "backups.tasks.restore_run"
UNDER_WAY = (Restore.State.QUEUED, Restore.State.RUNNING)
MAINTENANCE = "<?php $upgrading = time(); // Berth: a backup is being restored ?>\n"
MARKER = ".berth-restore"


def restore_create(
    *, backup: Backup, user=None, new_site_name: str = "", target: Site | None = None
) -> Restore:
    """Queue restoring ``backup`` (a succeeded one) into its site; or into ``target``, another
    site of the same kind in the team (a WordPress site made for it, say: it is backed up
    first like any site restored into); or, given ``new_site_name``, into a new static site
    made here."""
    if backup.state != Backup.State.SUCCEEDED:
        raise ValidationError(
            "Only a backup that succeeded can be restored.", code="not_restorable"
        )
    source = backup.site
    with transaction.atomic():
        made = False
        if new_site_name.strip():
            target, made = _new_site(source, user, new_site_name), True
        elif target is not None and target.pk != source.pk:
            _check_target(source, target)
        else:
            target = None
        into = target or source
        busy = Restore.objects.filter(
            Q(target=into) | Q(target=None, backup__site=into), state__in=UNDER_WAY
        ).exists()
        if busy:
            raise ValidationError("A restore of this site is already under way.", code="busy")
        job = Restore.objects.create(
            backup=backup, target=target, created_by=user, journal={"newSite": made}
        )
        job.task_id = enqueue_on_commit(RESTORE_TASK, str(job.pk))
        Restore.objects.filter(pk=job.pk).update(task_id=job.task_id)
        if user is not None:
            details = {"backup": str(backup.pk)}
            if target is not None:
                details["into"] = str(target.pk)
            audit_record(
                team=source.team, actor=user, action="backup.restore", obj=source, details=details
            )
    return job


def _new_site(source: Site, user, name: str) -> Site:
    if user is None:
        raise ValidationError("Restoring into a new site needs the user who asks for it.")
    if source.kind == Site.Kind.WORDPRESS:
        raise ValidationError(
            "To restore a WordPress backup into a new site, create the WordPress site first, "
            "then restore into it.",
            code="wordpress_new_site",
        )
    return site_create(owner=user, team=source.team, name=name, kind=source.kind)


def _check_target(source: Site, target: Site) -> None:
    if target.team_id != source.team_id:
        raise ValidationError("Restore into a site of the same team.", code="other_team")
    if target.kind != source.kind:
        raise ValidationError(
            f"A {source.get_kind_display()} backup restores into a site of that kind only.",
            code="other_kind",
        )
    if target.kind == Site.Kind.WORDPRESS:
        setup = WordPressSite.objects.filter(pk=target.pk).first()
        if setup is None or setup.state != WordPressSite.State.DONE:
            raise ValidationError(
                "That WordPress site is not set up yet; restore into it once it is online.",
                code="not_ready",
            )


def restore_run(*, restore_id) -> Restore | None:
    """Restore (the task's body). None when another worker has it; else the finished job,
    ``succeeded``, or ``failed`` with the reason and the site as it was."""
    if not jobs.claim(Restore, restore_id):
        return None
    job = Restore.objects.select_related("backup__site__team", "target").get(pk=restore_id)
    try:
        with jobs.heartbeats(Restore, restore_id):
            _restore_steps(job)
    except Exception as exc:  # every failure ends the restore failed, the site as it was
        reason = reason_of(exc)
        log.warning("Restore %s failed: %s", restore_id, reason)
        rolled_back = _roll_back(Restore.objects.get(pk=restore_id))
        finish(Restore, restore_id, error=reason + rolled_back, phase="")
    else:
        finish(Restore, restore_id, phase="")
    _clean_up(job)
    return Restore.objects.get(pk=restore_id)


def restores_reap(*, stale_after: float | None = None) -> list:
    """Fail restores whose worker died, rolling back a switch they were making."""

    def undo(pk):
        job = Restore.objects.select_related("backup__site", "target").get(pk=pk)
        if job.phase == "cleaning":  # it had finished; only its leftovers remained
            Restore.objects.filter(pk=pk).update(state=Restore.State.SUCCEEDED, reason="")
            _clean_up(job)
            return
        note = _roll_back(job)
        if note:
            Restore.objects.filter(pk=pk).update(reason=job.reason + note)
        _clean_up(job)
        Restore.objects.filter(pk=pk).update(phase="")

    return jobs.reap(
        Restore,
        what="the site was left as it was before the restore; restore again.",
        stale_after=stale_after,
        on_reaped=undo,
    )


# --- the steps --------------------------------------------------------------------------------


def _phase(job: Restore, phase: str) -> None:
    Restore.objects.filter(pk=job.pk).update(phase=phase, heartbeat_at=timezone.now())
    job.phase = phase


def _restore_steps(job: Restore) -> None:
    backup, site = job.backup, job.site
    if not job.journal.get("newSite"):
        _phase(job, "safety")
        safety = job.safety_backup
        if safety is None:
            safety = Backup.objects.create(site=site, type=Backup.Type.BEFORE_RESTORE)
            Restore.objects.filter(pk=job.pk).update(safety_backup=safety)
            job.safety_backup = safety
        safety = backup_run(backup_id=safety.pk) or Backup.objects.get(pk=safety.pk)
        if safety.state != Backup.State.SUCCEEDED:
            raise BackupFailed(
                f"The backup before restoring failed, nothing was changed: {safety.reason}"
            )
    _phase(job, "fetching")
    source = _fetch(job, backup)
    if backup.has_database:
        _restore_wordpress(job, site, source)
    else:
        _restore_static(job, site, source)


def _scratch_folder(job: Restore) -> Path:
    return Path(settings.BACKUP_ROOT) / "scratch" / f"restore-{job.pk}"


def _fetch(job: Restore, backup: Backup) -> Path:
    """The snapshot restored into a scratch folder and checked against the backup's record;
    the backup's staging folder inside it."""
    repo = repository_for(backup.site.team)
    target = scratch(f"restore-{job.pk}")
    restic.restore(repo.location, repo.password, backup.snapshot_id, str(target))
    source = staged_in(target, backup)
    if not (source / "files").is_dir() or not (source / "berth" / "manifest.json").is_file():
        raise BackupFailed("The restored snapshot does not hold the site's files.")
    expected = backup.record.get("files") if backup.record else None
    if expected:
        found = checksums(source)
        for path, item in expected.items():
            if found.get(path, {}).get("sha256") != item["sha256"]:
                raise BackupFailed(f"The restored {path} differs from the backup's record.")
    return source


# --- WordPress --------------------------------------------------------------------------------


def _names(job: Restore) -> tuple[str, str]:
    """The scratch database a restore loads, and the one the old tables move to."""
    return f"wp_{job.pk.hex[:24]}", f"wp_{job.pk.hex}"


def _staged_content(site: Site, job: Restore) -> Path:
    # Beside the document root, not in it (nothing in it is served), on the same filesystem.
    return layout_for(site.pk).root / f".wp-content.restore-{job.pk.hex[:12]}"


def _restore_wordpress(job: Restore, site: Site, source: Path) -> None:
    dump = source / "berth" / "database.sql"
    if not dump.is_file():
        raise BackupFailed("The restored snapshot does not hold the database dump.")
    layout = layout_for(site.pk)
    live = database.checked(site.wordpress.db_name)
    loaded, trash = _names(job)
    _phase(job, "preparing")
    for name in (loaded, trash):
        database.drop(name)
        database.create(name)
    database.load(loaded, dump)
    staged = _staged_content(site, job)
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(source / "files", staged, symlinks=True)
    (staged / MARKER).write_text(str(job.pk))
    _own(staged, system.owner_for(layout))
    if not layout.wp_content.is_dir():
        raise BackupFailed("The WordPress site's folder is missing; it cannot be restored.")

    _phase(job, "switching")
    _maintenance(layout, on=True)
    database.swap_in(live=live, loaded=loaded, trash=trash)
    exchange(staged, layout.wp_content)
    _editor_put_back(site, source / "berth" / "editor.json")
    _phase(job, "cleaning")  # done: from here on, leftovers are only cleaned up
    _out_of_maintenance(layout)


def _out_of_maintenance(layout) -> None:
    (layout.wp_content / MARKER).unlink(missing_ok=True)
    _maintenance(layout, on=False)


def _own(path: Path, owner) -> None:
    """Everything under ``path`` owned by the site's Unix user (when sites have their own)."""
    if not system.isolated():
        return
    for folder, dirs, files in os.walk(path):
        os.chown(folder, owner.uid, owner.gid)
        for name in dirs + files:
            os.chown(os.path.join(folder, name), owner.uid, owner.gid, follow_symlinks=False)


def _maintenance(layout, *, on: bool) -> None:
    """WordPress's own maintenance mode: every request answers 503 "Briefly unavailable"
    while ``.maintenance`` exists (its timestamp is always now, so it never lapses)."""
    flag = layout.htdocs / ".maintenance"
    if on:
        flag.write_text(MAINTENANCE)
        flag.chmod(0o644)
    else:
        flag.unlink(missing_ok=True)


_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2


def exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step (``renameat2`` with ``RENAME_EXCHANGE``): there is no
    moment without either."""
    if _libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE):
        error = ctypes.get_errno()
        raise OSError(error, f"Could not swap {a.name} and {b.name}: {os.strerror(error)}")


# --- static sites -----------------------------------------------------------------------------


def _restore_static(job: Restore, site: Site, source: Path) -> None:
    manifest = json.loads((source / "berth" / "manifest.json").read_text())
    release = source / "live" if (source / "live").is_dir() else source / "files"
    _phase(job, "preparing")
    deployment = None
    if manifest.get("files") or manifest.get("deployment"):
        deployment = deployment_publish(
            site=site,
            files=directory_files(release),
            source=Deployment.Source.ROLLBACK,
            author=job.created_by,
            activate=False,
        )
    job.journal = {
        **job.journal,
        "previousLive": str(site.live_deployment_id or ""),
        "deployment": str(deployment.pk) if deployment else "",
    }
    Restore.objects.filter(pk=job.pk).update(journal=job.journal)
    _phase(job, "switching")
    _files_put_back(site, source / "files")
    if deployment is not None:
        deployment_activate(deployment=deployment)
    _editor_put_back(site, source / "berth" / "editor.json")
    _phase(job, "cleaning")


def _files_put_back(site: Site, source: Path) -> None:
    tree = tree_for(site.pk)
    tree.remove_all()
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as stream:
                tree.save(path.relative_to(source).as_posix(), stream)
    site_storage_recount(site=site)


def _editor_put_back(site: Site, documents: Path) -> None:
    for page in json.loads(documents.read_text()):
        Page.objects.filter(site=site, pk=page["id"]).update(
            document=page["document"], updated_at=timezone.now()
        )


# --- undoing a switch, and cleaning up --------------------------------------------------------


def _roll_back(job: Restore) -> str:
    """Undo what a restore's ``switching`` phase did (nothing before it changed the site);
    a sentence to add to its reason."""
    if job.phase != "switching":
        return ""
    site = job.site
    try:
        if job.backup.has_database:
            _roll_back_wordpress(job, site)
        else:
            _roll_back_static(job, site)
    except Exception as exc:
        log.exception("Rolling back restore %s failed", job.pk)
        return f" Putting the site back as it was failed too: {reason_of(exc)}"
    return " The site was put back as it was."


def _roll_back_wordpress(job: Restore, site: Site) -> None:
    layout = layout_for(site.pk)
    loaded, trash = _names(job)
    _maintenance(layout, on=True)
    if database.exists(trash) and database.tables(trash):
        database.swap_in(live=database.checked(site.wordpress.db_name), loaded=trash, trash=loaded)
    staged = _staged_content(site, job)
    if (layout.wp_content / MARKER).exists() and staged.is_dir():
        exchange(staged, layout.wp_content)
    if job.safety_backup_id:
        _editor_from_backup(job, job.safety_backup)
    _maintenance(layout, on=False)


def _roll_back_static(job: Restore, site: Site) -> None:
    journal = job.journal or {}
    previous = journal.get("previousLive") or None
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        if journal.get("deployment") and str(locked.live_deployment_id) == journal["deployment"]:
            if previous:
                deployment_activate(deployment=Deployment.objects.get(pk=previous))
            else:
                Site.objects.filter(pk=site.pk).update(live_deployment=None)
                transaction.on_commit(
                    lambda: live_deployment_changed.send(
                        sender=Site, site_id=site.pk, deployment_id=None
                    )
                )
    if job.safety_backup_id is None:  # a new site: it had nothing to put back
        tree_for(site.pk).remove_all()
        site_storage_recount(site=site)
        return
    source = _fetch_backup(job, job.safety_backup)
    _files_put_back(site, source / "files")
    _editor_put_back(site, source / "berth" / "editor.json")


def _fetch_backup(job: Restore, backup: Backup) -> Path:
    repo = repository_for(backup.site.team)
    target = scratch(f"restore-{job.pk}-undo")
    restic.restore(repo.location, repo.password, backup.snapshot_id, str(target))
    return staged_in(target, backup)


def _editor_from_backup(job: Restore, backup: Backup) -> None:
    source = _fetch_backup(job, backup)
    _editor_put_back(job.site, source / "berth" / "editor.json")


def _clean_up(job: Restore) -> None:
    """Scratch folders, databases and the old content a restore leaves (run when it ends)."""
    for folder in (_scratch_folder(job), Path(f"{_scratch_folder(job)}-undo")):
        shutil.rmtree(folder, ignore_errors=True)
    if not job.backup.has_database:
        return
    if job.phase == "cleaning":
        _out_of_maintenance(layout_for(job.site.pk))
    try:
        for name in _names(job):
            database.drop(name)
    except Exception:
        log.warning("Could not drop the scratch databases of restore %s", job.pk, exc_info=True)
    shutil.rmtree(_staged_content(job.site, job), ignore_errors=True)
