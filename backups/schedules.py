"""Schedules (writes): a site backed up daily or weekly at an hour (UTC), with its retention
rules (keep the last N, daily, weekly, monthly; capped by the plan's retention)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backups.models import Backup, Schedule
from backups.runs import backup_create
from hosting.models import Site
from teams.audit import audit_record

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KEEP_LIMIT = 1000
KEEP_DEFAULTS = {"keep_last": 7, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 6}


def next_occurrence(*, frequency: str, hour: int, weekday: int, after: datetime) -> datetime:
    """The first time strictly after ``after`` at ``hour``:00 UTC (on ``weekday`` if weekly)."""
    after = after.astimezone(UTC)
    at = after.replace(hour=hour, minute=0, second=0, microsecond=0)
    if frequency == Schedule.Frequency.WEEKLY:
        at += timedelta(days=(weekday - at.weekday()) % 7)
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    while at <= after:
        at += step
    return at


def _keep(values: dict) -> dict:
    keep, errors = {}, {}
    for field, default in KEEP_DEFAULTS.items():
        value = values.get(field)
        try:
            value = default if value is None or value == "" else int(value)
        except (TypeError, ValueError):
            errors[field] = ["Give a whole number."]
            continue
        low = 1 if field == "keep_last" else 0
        if not low <= value <= KEEP_LIMIT:
            errors[field] = [f"Between {low} and {KEEP_LIMIT}."]
        keep[field] = value
    if errors:
        raise ValidationError(errors)
    return keep


def schedule_set(
    *, site: Site, frequency: str, hour: int = 3, weekday: int = 0, user=None, **keep
) -> Schedule | None:
    """Back ``site`` up daily or weekly at ``hour`` UTC, keeping what ``keep_last``,
    ``keep_daily``, ``keep_weekly`` and ``keep_monthly`` say (defaults 7, 7, 4, 6; the plan's
    retention caps them); ``frequency`` "off" removes the schedule. The schedule, or None."""
    if frequency == "off":
        Schedule.objects.filter(site=site).delete()
        return None
    if frequency not in Schedule.Frequency.values:
        raise ValidationError({"frequency": ["Choose daily, weekly or off."]})
    if not 0 <= int(hour) <= 23:
        raise ValidationError({"hour": ["The hour is 0 to 23 (UTC)."]})
    if not 0 <= int(weekday) <= 6:
        raise ValidationError({"weekday": ["Choose a day of the week."]})
    unknown = set(keep) - set(KEEP_DEFAULTS)
    if unknown:
        raise TypeError(f"Unknown schedule fields: {sorted(unknown)}")
    rules = _keep(keep)
    next_run = next_occurrence(
        frequency=frequency, hour=int(hour), weekday=int(weekday), after=timezone.now()
    )
    schedule, _ = Schedule.objects.update_or_create(
        site=site,
        defaults={
            "frequency": frequency,
            "hour": int(hour),
            "weekday": int(weekday),
            "next_run_at": next_run,
            **rules,
        },
    )
    if user is not None:
        audit_record(
            team=site.team,
            actor=user,
            action="backup.schedule",
            obj=site,
            details={"frequency": frequency, "hour": int(hour), "weekday": int(weekday), **rules},
        )
    return schedule


def schedules_run(*, now: datetime | None = None) -> list[Backup]:
    """Queue a scheduled backup of every site whose time has come (the beat task's body), and
    move each schedule to its next time. Two beats at once never queue the same one twice."""
    now = now or timezone.now()
    queued = []
    with transaction.atomic():
        due = (
            Schedule.objects.select_for_update(skip_locked=True)
            .select_related("site__team")
            .filter(next_run_at__lte=now)
        )
        for schedule in due:
            queued.append(backup_create(site=schedule.site, type=Backup.Type.SCHEDULED))
            schedule.next_run_at = next_occurrence(
                frequency=schedule.frequency,
                hour=schedule.hour,
                weekday=schedule.weekday,
                after=now,
            )
            schedule.save(update_fields=["next_run_at"])
    return queued
