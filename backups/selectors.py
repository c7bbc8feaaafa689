"""Reads of backups, scoped to the caller's teams."""

from __future__ import annotations

from django.db.models import OuterRef, Q, Subquery

from backups.models import Backup, Drill, Repository, Restore, Schedule
from hosting.models import Site

KEEP_FIELDS = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")


def backups_of_site(*, site):
    return Backup.objects.filter(site=site).order_by("-created_at")


def backup_get(*, site, pk) -> Backup:
    """A backup of ``site`` (the site was already looked up for the caller); DoesNotExist else."""
    return Backup.objects.for_team(site.team).get(site=site, pk=pk)


def restores_of_site(*, site):
    """Restores from this site's backups, and into this site from another's."""
    return (
        Restore.objects.filter(Q(backup__site=site) | Q(target=site))
        .select_related("backup__site", "target")
        .order_by("-created_at")
    )


def restore_targets(*, site):
    """The other sites of the team a backup of ``site`` may be restored into."""
    return Site.objects.for_team(site.team).filter(kind=site.kind).exclude(pk=site.pk)


def restore_get(*, site, pk) -> Restore:
    return Restore.objects.for_team(site.team).get(Q(backup__site=site) | Q(target=site), pk=pk)


def schedule_of(*, site) -> Schedule | None:
    return Schedule.objects.filter(site=site).first()


def site_alerts(*, site) -> dict:
    """The failures a site's pages warn about: its last scheduled backup, when it failed and
    no backup succeeded after it; its last restore drill, when it failed. One query when there
    is nothing to warn about (every page of the site asks)."""
    scheduled = (
        Backup.objects.filter(site=OuterRef("pk"), type=Backup.Type.SCHEDULED)
        .exclude(state__in=[Backup.State.QUEUED, Backup.State.RUNNING])
        .order_by("-created_at")
    )
    drills = Drill.objects.filter(site=OuterRef("pk"), state__in=Drill.FINAL_STATES).order_by(
        "-created_at"
    )
    last = (
        Site.objects.filter(pk=site.pk)
        .annotate(
            backup_id=Subquery(scheduled.values("pk")[:1]),
            backup_state=Subquery(scheduled.values("state")[:1]),
            drill_id=Subquery(drills.values("pk")[:1]),
            drill_state=Subquery(drills.values("state")[:1]),
        )
        .values("backup_id", "backup_state", "drill_id", "drill_state")
        .first()
    ) or {}
    failed_backup = failed_drill = None
    if last.get("backup_state") == Backup.State.FAILED:
        failed_backup = Backup.objects.filter(pk=last["backup_id"]).first()
        if (
            failed_backup is not None
            and Backup.objects.filter(
                site=site, state=Backup.State.SUCCEEDED, created_at__gt=failed_backup.created_at
            ).exists()
        ):
            failed_backup = None
    if last.get("drill_state") == Drill.State.FAILED:
        failed_drill = Drill.objects.select_related("backup").filter(pk=last["drill_id"]).first()
    return {"failed_backup": failed_backup, "failed_drill": failed_drill}


def drills_of_site(*, site):
    return Drill.objects.filter(site=site).select_related("backup").order_by("-created_at")


def backup_storage_of(*, team) -> Repository | None:
    """The team's repository, carrying ``stored_bytes`` and ``measured_at`` (None before its
    first backup)."""
    return Repository.objects.filter(team=team, initialized_at__isnull=False).first()
