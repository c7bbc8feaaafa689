"""Which of a site's snapshots are kept: the schedule's rules (keep the last N, and the newest
of each of N days, weeks and months — restic's ``forget --keep-*``, a snapshot kept when any
rule keeps it), then the plan's backup retention on top as a cap (nothing older than that many
days before the newest is kept, whatever the rules say). Without a schedule only the cap
applies. Forgotten snapshots are pruned and their rows deleted.
"""

from __future__ import annotations

import logging

from backups import restic
from backups.models import Backup, Repository, Schedule
from billing.limits import plan_of

log = logging.getLogger(__name__)

RULES = (
    ("keep_last", "--keep-last"),
    ("keep_daily", "--keep-daily"),
    ("keep_weekly", "--keep-weekly"),
    ("keep_monthly", "--keep-monthly"),
)


def forget_args(schedule: Schedule | None, cap_days: int | None) -> list[list[str]]:
    """The ``restic forget`` passes to run (each a list of keep options)."""
    passes = []
    if schedule is not None:
        rules = []
        for field, option in RULES:
            value = getattr(schedule, field)
            if value:
                rules += [option, str(value)]
        if rules:
            passes.append(rules)
    if cap_days is not None:
        passes.append(["--keep-within", f"{cap_days}d"])
    return passes


def apply(*, site) -> int:
    """Forget the site's snapshots its rules and its plan no longer keep and delete their
    rows; how many went. A failure is logged and retried at the next backup: the snapshots
    stay, so nothing is lost."""
    repo = Repository.objects.filter(team=site.team).first()
    schedule = Schedule.objects.filter(site=site).first()
    passes = forget_args(schedule, plan_of(site.team).backup_retention_days)
    if repo is None or not passes:
        return 0
    tag = f"site:{site.pk}"
    try:
        for keep in passes:
            restic.forget_keeping(repo.location, repo.password, tag=tag, keep=keep)
        kept = restic.snapshot_ids(repo.location, repo.password, tag=tag)
    except restic.ResticError as exc:
        log.warning("Retention of site %s's backups failed: %s", site.pk, exc)
        return 0
    gone = Backup.objects.filter(site=site, state=Backup.State.SUCCEEDED).exclude(
        snapshot_id__in=kept
    )
    count = gone.count()
    gone.delete()
    return count
