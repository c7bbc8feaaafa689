"""Alerts: a failed scheduled backup, and a failed restore drill, email every member of the
site's team once (``alerted_at`` is claimed first, so two workers never both send) and show on
the site's pages until a later backup or drill succeeds."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from backups.models import Backup, Drill
from teams.models import Membership

log = logging.getLogger(__name__)


def _team_emails(team) -> list[str]:
    return sorted(
        {
            email
            for email in Membership.objects.filter(team=team, user__is_active=True).values_list(
                "user__email", flat=True
            )
            if email
        }
    )


def _send(*, model, pk, site, subject: str, lines: list[str]) -> bool:
    if not model.objects.filter(pk=pk, alerted_at=None).update(alerted_at=timezone.now()):
        return False
    link = settings.PANEL_URL + reverse("backups:site-backups", args=[site.pk])
    body = "\n".join([*lines, "", f"The site's backups: {link}"])
    recipients = _team_emails(site.team)
    if not recipients:
        return True
    try:
        send_mail(f"[Berth] {subject}", body, None, recipients)
    except Exception:  # mail trouble must not break the job record; the page still shows it
        log.warning("Could not email the team of site %s: %s", site.pk, subject, exc_info=True)
    return True


def backup_failed(*, backup: Backup) -> bool:
    """Email the team about a failed scheduled backup (other types are seen by whoever asked
    for them). Whether an email went out now."""
    if backup.type != Backup.Type.SCHEDULED or backup.state != Backup.State.FAILED:
        return False
    site = backup.site
    return _send(
        model=Backup,
        pk=backup.pk,
        site=site,
        subject=f"The scheduled backup of {site.name} failed",
        lines=[
            f"The scheduled backup of {site.name} taken "
            f"{backup.created_at:%d %b %Y, %H:%M} UTC failed, so it cannot be restored.",
            "",
            f"Reason: {backup.reason}",
            "",
            "Your earlier backups are untouched. Back up now from the site's Backups tab once "
            "the reason is dealt with.",
        ],
    )


def drill_failed(*, drill: Drill) -> bool:
    """Email the team about a failed restore drill. Whether an email went out now."""
    if drill.state != Drill.State.FAILED:
        return False
    site = drill.site
    when = drill.backup.created_at if drill.backup_id else drill.created_at
    return _send(
        model=Drill,
        pk=drill.pk,
        site=site,
        subject=f"A restore drill of {site.name} failed",
        lines=[
            f"Berth restored the backup of {site.name} taken {when:%d %b %Y, %H:%M} UTC into a "
            "scratch folder and database to prove it restores, and it did not.",
            "",
            f"Reason: {drill.reason}",
            "",
            "Take a new backup from the site's Backups tab; the next drill checks it.",
        ],
    )
