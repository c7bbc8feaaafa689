"""Every write of the monitoring app: check results and their rollups, incidents, subscribers,
heartbeats, and restarts of supervised processes."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

import psutil
from django.conf import settings
from django.core import mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from controlpanel.celery import app as celery_app
from controlpanel.supervision import ProcessInfo, SupervisorError, default_supervisor
from monitoring import events
from monitoring.checks import Outcome, configured_services, run_check
from monitoring.models import (
    CheckResult,
    DailyRollup,
    Host,
    HostSample,
    HourlyRollup,
    Incident,
    IncidentUpdate,
    Service,
    Status,
    Subscriber,
)
from monitoring.site_usage import site_processes_sample as site_processes_sample
from monitoring.site_usage import site_usage_add as site_usage_add
from teams.audit import audit_record

log = logging.getLogger(__name__)


# -- services and checks ---------------------------------------------------------------------


def services_sync() -> list[Service]:
    """Create the services Berth's configuration asks for; disable automatic ones it dropped."""
    wanted = configured_services()
    for entry in wanted:
        Service.objects.update_or_create(
            slug=entry["slug"],
            defaults={**entry, "automatic": True, "enabled": True},
        )
    Service.objects.filter(automatic=True).exclude(slug__in=[e["slug"] for e in wanted]).update(
        enabled=False
    )
    return list(Service.objects.filter(enabled=True))


def service_check(*, service: Service, now: datetime | None = None) -> CheckResult:
    """Check one service now and record the outcome."""
    return check_record(service=service, outcome=run_check(service), now=now)


def checks_run(*, now: datetime | None = None) -> list[CheckResult]:
    """Check every enabled service once and record the outcomes."""
    return [service_check(service=service, now=now) for service in services_sync()]


def _rollup_add(model, service: Service, key: dict, outcome: Outcome) -> None:
    rows = model.objects.filter(service=service, **key)
    if not rows.exists():
        try:
            with transaction.atomic():
                model.objects.create(service=service, **key)
        except IntegrityError:
            pass  # made by a concurrent check
    counts = {outcome.status: F(outcome.status) + 1, "checks": F("checks") + 1}
    if outcome.response_time_ms is not None:
        counts |= {
            "response_time_sum_ms": F("response_time_sum_ms") + outcome.response_time_ms,
            "response_time_count": F("response_time_count") + 1,
            "response_time_max_ms": Greatest("response_time_max_ms", outcome.response_time_ms),
        }
    rows.update(**counts)


@transaction.atomic
def check_record(*, service: Service, outcome: Outcome, now: datetime | None = None) -> CheckResult:
    """Store one check: the raw result, the service's current state, its hour's and day's
    rollups; open an incident after ``MONITORING_FAILURES_TO_OPEN`` failures in a row and resolve
    it on the first success. Then broadcast."""
    now = now or timezone.now()
    result = CheckResult.objects.create(
        service=service,
        checked_at=now,
        status=outcome.status,
        response_time_ms=outcome.response_time_ms,
        message=outcome.message,
    )
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    _rollup_add(HourlyRollup, service, {"hour": hour}, outcome)
    _rollup_add(DailyRollup, service, {"day": hour.date()}, outcome)
    down = outcome.status == Status.DOWN
    Service.objects.filter(pk=service.pk).update(
        status=outcome.status,
        response_time_ms=outcome.response_time_ms,
        message=outcome.message,
        last_checked_at=now,
        consecutive_failures=F("consecutive_failures") + 1 if down else 0,
        consecutive_successes=0 if down else F("consecutive_successes") + 1,
    )
    service.refresh_from_db()
    if down and service.consecutive_failures >= settings.MONITORING_FAILURES_TO_OPEN:
        _incident_open_automatic(service=service, outcome=outcome, now=now)
    elif not down:
        _incidents_resolve_automatic(service=service, now=now)
    events.publish_status_changed()
    return result


def _open_automatic(service: Service):
    return Incident.objects.filter(
        automatic=True, services=service, resolved_at__isnull=True
    ).select_for_update()


def _incident_open_automatic(*, service: Service, outcome: Outcome, now: datetime) -> None:
    if _open_automatic(service).exists():
        return
    failures = service.consecutive_failures
    incident = Incident.objects.create(
        title=f"{service.name} is down",
        description=outcome.message,
        severity=Incident.Severity.MAJOR,
        automatic=True,
        started_at=now,
    )
    incident.services.add(service)
    _update_add(
        incident,
        Incident.State.INVESTIGATING,
        f"{failures} checks in a row failed: {outcome.message}",
        author=None,
        now=now,
    )


def _incidents_resolve_automatic(*, service: Service, now: datetime) -> None:
    for incident in _open_automatic(service):
        _update_add(
            incident,
            Incident.State.RESOLVED,
            f"{service.name} answers again ({service.response_time_ms} ms).",
            author=None,
            now=now,
        )


def _update_add(incident: Incident, state: str, message: str, *, author, now=None):
    now = now or timezone.now()
    update = IncidentUpdate.objects.create(
        incident=incident, state=state, message=message, author=author, created_at=now
    )
    incident.state = state
    incident.resolved_at = now if state == Incident.State.RESOLVED else None
    incident.full_clean()
    incident.save()
    transaction.on_commit(lambda: incident_notify(update_id=update.pk))
    events.publish_status_changed()
    return update


def rollups_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Drop raw results and samples past ``MONITORING_RAW_DAYS``, hourly rollups past
    ``MONITORING_HOURLY_DAYS``, daily rollups past ``MONITORING_DAILY_DAYS``."""
    now = now or timezone.now()
    raw = now - timedelta(days=settings.MONITORING_RAW_DAYS)
    return {
        "results": CheckResult.objects.filter(checked_at__lt=raw).delete()[0],
        "samples": HostSample.objects.filter(taken_at__lt=raw).delete()[0],
        "hourly": HourlyRollup.objects.filter(
            hour__lt=now - timedelta(days=settings.MONITORING_HOURLY_DAYS)
        ).delete()[0],
        "daily": DailyRollup.objects.filter(
            day__lt=(now - timedelta(days=settings.MONITORING_DAILY_DAYS)).date()
        ).delete()[0],
    }


# -- incidents written by operators ----------------------------------------------------------


@transaction.atomic
def incident_create(
    *,
    title: str,
    message: str,
    severity: str = Incident.Severity.MINOR,
    state: str = Incident.State.INVESTIGATING,
    services: list[Service] | None = None,
    author=None,
) -> Incident:
    """An operator's incident, with its first timeline entry."""
    incident = Incident(title=title.strip(), description=message.strip(), severity=severity)
    incident.state = state
    incident.resolved_at = timezone.now() if state == Incident.State.RESOLVED else None
    incident.created_by = author
    incident.full_clean()
    incident.save()
    incident.services.set(services or [])
    _update_add(incident, state, message.strip() or title.strip(), author=author)
    return incident


@transaction.atomic
def incident_update_add(*, incident: Incident, state: str, message: str, author=None):
    """A new entry in the incident's timeline; its state becomes the incident's."""
    update = IncidentUpdate(incident=incident, state=state, message=message.strip(), author=author)
    update.full_clean(exclude=["incident"])
    return _update_add(incident, state, update.message, author=author)


# -- subscribers -----------------------------------------------------------------------------


def _absolute(name: str, token: str) -> str:
    return settings.PANEL_URL + reverse(name, args=[token])


def subscriber_add(*, email: str) -> Subscriber:
    """Ask ``email`` to confirm (double opt-in); nothing is sent to it until it does."""
    email = email.strip().lower()
    validate_email(email)
    subscriber, _ = Subscriber.objects.get_or_create(email=email)
    if subscriber.confirmed_at is None:
        mail.send_mail(
            "Confirm your subscription to Berth's status",
            render_to_string(
                "monitoring/email/confirm.txt",
                {
                    "url": _absolute("monitoring:subscribe-confirm", subscriber.token),
                    "unsubscribe": _absolute("monitoring:unsubscribe", subscriber.token),
                },
            ),
            None,
            [subscriber.email],
        )
    return subscriber


def subscriber_confirm(*, token: str) -> Subscriber | None:
    subscriber = Subscriber.objects.filter(token=token).first()
    if subscriber and subscriber.confirmed_at is None:
        subscriber.confirmed_at = timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
    return subscriber


def subscriber_remove(*, token: str) -> bool:
    return Subscriber.objects.filter(token=token).delete()[0] > 0


def incident_notify(*, update_id: int) -> int:
    """Email one timeline entry to every confirmed subscriber, each with their own unsubscribe
    link; returns how many were sent."""
    update = IncidentUpdate.objects.select_related("incident").filter(pk=update_id).first()
    if update is None:
        return 0
    sent = 0
    for subscriber in Subscriber.objects.filter(confirmed_at__isnull=False):
        unsubscribe = _absolute("monitoring:unsubscribe", subscriber.token)
        message = mail.EmailMessage(
            f"[{update.get_state_display()}] {update.incident.title}",
            render_to_string(
                "monitoring/email/incident.txt",
                {
                    "update": update,
                    "incident": update.incident,
                    "unsubscribe": unsubscribe,
                    "status_url": settings.PANEL_URL + reverse("monitoring:status"),
                },
            ),
            to=[subscriber.email],
            headers={"List-Unsubscribe": f"<{unsubscribe}>"},
        )
        try:
            sent += message.send()
        except Exception:  # one bad address must not stop the others
            log.warning("Could not email %s", subscriber.email, exc_info=True)
    return sent


# -- hosts -----------------------------------------------------------------------------------


def heartbeat_record(*, name: str, role: str, sample: dict, now: datetime | None = None) -> Host:
    """A host says it is alive, with a psutil sample (see monitoring/heartbeats.py)."""
    now = now or timezone.now()
    host, _ = Host.objects.get_or_create(name=name[:200])
    if role not in host.roles:
        host.roles = sorted({*host.roles, role})
    host.last_seen_at = now
    host.cpu_count = sample["cpu_count"]
    host.memory_total = sample["memory_total"]
    host.disk_total = sample["disk_total"]
    host.save()
    HostSample.objects.create(
        host=host,
        taken_at=now,
        cpu=sample["cpu"],
        memory=sample["memory"],
        disk=sample["disk"],
        load1=sample["load1"],
    )
    return host


# -- supervised processes --------------------------------------------------------------------


class RestartFailed(Exception):
    """The program did not come back running with a new pid and a passing health check."""


def process_restart(*, name: str, actor=None, request=None) -> ProcessInfo:
    """Restart a supervised program; verified by a new pid and its health check (the panel's
    /health for the web server; staying up for its start time for the others), and recorded in
    the audit log either way."""
    supervisor = default_supervisor()
    before = supervisor.process(name)
    error = ""
    try:
        after = supervisor.restart_program(name)
        if not after.running or after.pid in (None, before.pid):
            raise RestartFailed(f"{name} is {after.state} (pid {after.pid})")
        if name == "web":
            outcome = run_check(Service(kind=Service.Kind.PANEL))
            if outcome.status == Status.DOWN:
                raise RestartFailed(f"the panel's health check fails: {outcome.message}")
    except (SupervisorError, RestartFailed) as exc:
        error = str(exc)
        after = None
    audit_record(
        team=None,  # an operator's action on Berth itself, in no customer's team
        actor=actor,
        action="process.restart",
        obj=name,
        object_type="process",
        object_id=name,
        request=request,
        details={
            "old_pid": before.pid,
            "new_pid": after.pid if after else None,
            "ok": not error,
            "error": error,
        },
    )
    if error:
        raise RestartFailed(error)
    return after


def _serves_this_process(pid: int | None) -> bool:
    me = psutil.Process(os.getpid())
    return pid is not None and pid in {me.pid, *(p.pid for p in me.parents())}


def process_restart_requested(*, name: str, actor=None, request=None) -> ProcessInfo | None:
    """Restart ``name`` now; or, when it is the program answering this request (the web
    server cannot wait for its own restart), hand it to a worker and return None."""
    if _serves_this_process(default_supervisor().process(name).pid):
        actor_id = actor.pk if actor is not None and actor.is_authenticated else None
        transaction.on_commit(
            lambda: celery_app.send_task("monitoring.restart_process", args=[name, actor_id])
        )
        return None
    return process_restart(name=name, actor=actor, request=request)
