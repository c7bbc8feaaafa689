"""Backups, restores, restore drills and schedules (writes): the one door the Backups tab, the
API, the tasks and other apps (WordPress updates) go through. Each concept lives in its own
module; see their docstrings for what they promise:

- ``backups.runs``: making a backup (a checked restic snapshot with a record of its files'
  checksums and its tables' rows), live progress, the backup before a WordPress update;
- ``backups.restores``: restoring into the same or a new site, rolled back if cut short;
- ``backups.drills``: periodic restore drills into a scratch folder and database;
- ``backups.retention``: keep rules per schedule, capped by the plan;
- ``backups.schedules``: daily or weekly backups;
- ``backups.storage``: deleting a backup, and measuring what the team's repository takes;
- ``backups.jobs``: claims, heartbeats and the reaper of jobs whose worker died.
"""

from __future__ import annotations

from backups.drills import drill_create, drill_run, drills_due, drills_reap
from backups.restores import restore_create, restore_run, restores_reap
from backups.retention import apply as retention_apply
from backups.runs import (
    BackupFailed,
    back_up_before_wordpress_update,
    backup_create,
    backup_run,
    backups_reap,
    repository_for,
)
from backups.schedules import WEEKDAYS, next_occurrence, schedule_set, schedules_run
from backups.storage import backup_delete, repository_measure, snapshot_forget

__all__ = [
    "WEEKDAYS",
    "BackupFailed",
    "back_up_before_wordpress_update",
    "backup_create",
    "backup_delete",
    "backup_run",
    "backups_reap",
    "drill_create",
    "drill_run",
    "drills_due",
    "drills_reap",
    "jobs_reap",
    "next_occurrence",
    "repository_for",
    "repository_measure",
    "restore_create",
    "restore_run",
    "restores_reap",
    "retention_apply",
    "schedule_set",
    "schedules_run",
    "snapshot_forget",
]


def jobs_reap(*, stale_after: float | None = None) -> int:
    """Fail every backup, restore and drill whose worker died; how many."""
    return (
        len(backups_reap(stale_after=stale_after))
        + len(restores_reap(stale_after=stale_after))
        + len(drills_reap(stale_after=stale_after))
    )
