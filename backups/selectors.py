"""Reads of backups, scoped to the caller's teams."""

from __future__ import annotations

from backups.models import Backup, Repository, Restore, Schedule


def backups_of_site(*, site):
    return Backup.objects.filter(site=site).order_by("-created_at")


def backup_get(*, site, pk) -> Backup:
    """A backup of ``site`` (the site was already looked up for the caller); DoesNotExist else."""
    return Backup.objects.for_team(site.team).get(site=site, pk=pk)


def restores_of_site(*, site):
    return (
        Restore.objects.filter(backup__site=site).select_related("backup").order_by("-created_at")
    )


def restore_get(*, site, pk) -> Restore:
    return Restore.objects.for_team(site.team).get(backup__site=site, pk=pk)


def schedule_of(*, site) -> Schedule | None:
    return Schedule.objects.filter(site=site).first()


def backup_storage_of(*, team) -> Repository | None:
    """The team's repository, carrying ``stored_bytes`` and ``measured_at`` (None before its
    first backup)."""
    return Repository.objects.filter(team=team, initialized_at__isnull=False).first()
