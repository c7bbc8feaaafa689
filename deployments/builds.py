"""Git deployments as job records: queue, claim, advance, finish, cancel, redeploy, reap.

Writes, like services.py: the HTML views, the API, the webhook, the tasks and the admin all
call these. Each state change is a conditional UPDATE from the state it expects, so a cancel
racing a worker, or a duplicate task delivery, has exactly one winner.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import uuid
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing.limits import plan_allows, plan_enforce
from controlpanel.enqueue import enqueue_on_commit
from deployments import events
from deployments.logs import log_append
from deployments.models import Deployment, DeploymentStage, Project
from deployments.previews import PULL_PREFIX
from deployments.projects import (
    branch_verify,
    project_save,
    project_settings_check,
    repository_resolve,
)
from hosting.hostnames import hostnames_changed
from hosting.models import Site
from teams.audit import audit_record
from teams.models import Team
from teams.permissions import SITE_MANAGE, job_refusal
from teams.selectors import team_owners

log = logging.getLogger(__name__)


def deployment_create(
    *,
    user,
    repository: str,
    branch: str = "",
    build_command: str | None = None,
    output_dir: str | None = None,
    env_vars: str | None = None,
    install_command: str | None = None,
    auto_deploy: bool | None = None,
    team=None,
) -> Deployment:
    """The Autostack ``POST /api/deployments``: save the team's project (``team`` defaults to
    the one ``user`` acts in), queue a build of the branch.

    The settings are checked first, then the branch against the repository's branches (an
    unknown one is refused, naming those there are; none given means the default branch), and
    only then are the project, its site and the deployment created.
    """
    source = repository_resolve(user=user, repository=repository)
    project_settings_check(branch=branch, output_dir=output_dir, env_vars=env_vars)
    branch = branch_verify(user=user, source=source, branch=branch)
    with transaction.atomic():
        project = project_save(
            user=user,
            source=source,
            branch=branch,
            install_command=install_command,
            build_command=build_command,
            output_dir=output_dir,
            env_vars=env_vars,
            auto_deploy=auto_deploy,
            team=team,
        )
        return deployment_build_queue(project=project, author=user)


def deployment_build_queue(
    *,
    project: Project,
    author=None,
    branch: str = "",
    redeploy_of: Deployment | None = None,
    preview: str = "",
    commit_hash: str = "",
    from_fork: bool = False,
) -> Deployment:
    """Record a queued git deployment and enqueue its build once the transaction commits.

    Refused (``PlanLimitExceeded``) when the team has used its plan's build minutes for the
    month or is suspended: the page, the API and the git webhook all come through here."""
    now = timezone.now()
    with transaction.atomic():
        plan_enforce(project.site.team, "build_minutes")
        deployment = Deployment.objects.create(
            site=project.site,
            project=project,
            author=author,
            source=Deployment.Source.GIT,
            status=Deployment.Status.QUEUED,
            branch=branch or project.branch,
            preview=preview or (redeploy_of.preview if redeploy_of else ""),
            commit_hash=redeploy_of.commit_hash if redeploy_of else commit_hash,
            from_fork=from_fork,
            commit_message=redeploy_of.commit_message if redeploy_of else "",
            commit_author=redeploy_of.commit_author if redeploy_of else "",
            redeploy_of=redeploy_of,
            task_id=str(uuid.uuid4()),
            created_at=now,
            heartbeat_at=now,
        )
        DeploymentStage.objects.create(
            deployment=deployment,
            name=DeploymentStage.Name.QUEUED,
            status=DeploymentStage.Status.IN_PROGRESS,
            started_at=now,
        )
        enqueue_on_commit(
            "deployments.tasks.build_deployment", str(deployment.pk), task_id=deployment.task_id
        )
        _pull_preview_report(deployment)
    return deployment


def _pull_preview_report(deployment: Deployment) -> None:
    """A pull request preview's state goes to GitHub (pending now, the outcome at the end)."""
    if deployment.preview.startswith(PULL_PREFIX):
        enqueue_on_commit("deployments.tasks.preview_status_report", str(deployment.pk))


def deployment_redeploy(*, deployment: Deployment, author=None) -> Deployment:
    """A new deployment building the same commit with the project's current settings.

    A deployment that never got as far as a commit (its clone failed) has none to repeat:
    its redeploy builds the head of the project's configured branch, like ``deploy latest``.
    """
    if deployment.source != Deployment.Source.GIT or deployment.project_id is None:
        raise ValidationError(
            "Only git deployments can be redeployed; restore this one with a rollback instead."
        )
    if not deployment.commit_hash:
        return deployment_deploy_latest(project=deployment.project, author=author)
    return deployment_build_queue(
        project=deployment.project,
        author=author,
        branch=deployment.branch,
        redeploy_of=deployment,
    )


def deployment_deploy_latest(*, project: Project, author=None) -> Deployment:
    """A new deployment building the head of the project's configured branch."""
    return deployment_build_queue(project=project, author=author, branch=project.branch)


def deployment_cancel(*, deployment: Deployment, user=None) -> Deployment:
    """Cancel a queued or building deployment; the builder notices within a second and kills
    its process group. A queued build's task is revoked (and would skip itself anyway).

    A building deployment is cancelled without ``finished_at``: its builder still writes the
    last log line, then ``build_finish`` stamps it, and only then do live viewers get
    ``deployment_complete`` (so none stops before the last line)."""
    now = timezone.now()
    cancelled = {"status": Deployment.Status.CANCELLED, "error": "Cancelled."}
    waiting = [Deployment.Status.QUEUED, Deployment.Status.UPLOADING]
    if Deployment.objects.filter(pk=deployment.pk, status__in=waiting).update(
        finished_at=now, **cancelled
    ):
        _revoke(deployment.task_id)
        who = f" by {user.get_full_name()}" if user else ""
        log_append(deployment.pk, f"Deployment cancelled{who} before it started.", "warning")
        _stages_finish(deployment.pk, Deployment.Status.CANCELLED, "Cancelled.")
        _finished(deployment.pk)
    elif not Deployment.objects.filter(pk=deployment.pk, status=Deployment.Status.BUILDING).update(
        **cancelled
    ):
        deployment.refresh_from_db()
        if deployment.status == Deployment.Status.DEPLOYING:
            raise ValidationError("The build is already being published; it can't be cancelled.")
        raise ValidationError(f"The deployment is already {deployment.get_status_display()}.")
    events.status_changed(deployment.pk, Deployment.Status.CANCELLED)
    deployment.refresh_from_db()
    return deployment


def _revoke(task_id: str) -> None:
    if not task_id:
        return
    from controlpanel.celery import app

    if app.conf.broker_url.startswith("filesystem"):
        return  # no broadcast there; the claim skips the cancelled build when it arrives
    try:
        app.control.revoke(task_id)
    except Exception:  # brokers without broadcast (filesystem) cannot revoke; the claim skips it
        log.info("Could not revoke task %s", task_id, exc_info=True)


def deployment_delete(*, deployment: Deployment) -> None:
    """Delete a finished deployment that is not live, with its stages and logs."""
    if not deployment.is_final:
        raise ValidationError("Cancel the deployment before deleting it.")
    if Site.objects.filter(live_deployment=deployment).exists():
        raise ValidationError("This deployment is live; deploy or restore another one first.")
    deployment.delete()


def build_claim(*, deployment_id, worker: str = "") -> str:
    """Take a queued build for this worker: "claimed", "wait" (the team's plan allows no more
    concurrent builds), "refused" (whoever queued it may no longer deploy there, asked now as
    their role may have changed while it waited; or its build minutes are used up, or it is
    suspended: the deployment fails saying so) or "skip" (gone, cancelled, or claimed by a
    duplicate delivery)."""
    deployment = (
        Deployment.objects.filter(pk=deployment_id).select_related("site__team", "author").first()
    )
    if deployment is None or deployment.status != Deployment.Status.QUEUED:
        return "skip"
    refusal = job_refusal(deployment.author, SITE_MANAGE, deployment.site)
    if refusal:
        with transaction.atomic():  # failed and audited together
            if _refuse_queued(deployment_id, refusal):
                audit_record(
                    team=deployment.site.team_id,
                    actor=deployment.author,
                    action="deployment.refused",
                    obj=deployment,
                    details={"reason": refusal},
                )
        return "refused"
    team = deployment.site.team
    team_id = team.pk
    now = timezone.now()
    with transaction.atomic():
        # Serialise claims of one team so two workers cannot both pass the limit.
        Team.objects.select_for_update().filter(pk=team_id).first()
        minutes = plan_allows(team, "build_minutes")
        if not minutes.allowed:
            _refuse_queued(deployment_id, minutes.message())
            return "refused"
        if not plan_allows(team, "concurrent_builds").allowed:
            # The task is alive and waiting: the reaper leaves this queued row alone.
            Deployment.objects.filter(pk=deployment_id, status=Deployment.Status.QUEUED).update(
                heartbeat_at=now
            )
            return "wait"
        claimed = Deployment.objects.filter(
            pk=deployment_id, status=Deployment.Status.QUEUED
        ).update(status=Deployment.Status.BUILDING, started_at=now, heartbeat_at=now, worker=worker)
        if claimed != 1:
            return "skip"
        DeploymentStage.objects.filter(
            deployment_id=deployment_id, name=DeploymentStage.Name.QUEUED
        ).update(status=DeploymentStage.Status.COMPLETED, completed_at=now)
        DeploymentStage.objects.get_or_create(
            deployment_id=deployment_id,
            name=DeploymentStage.Name.BUILDING,
            defaults={"status": DeploymentStage.Status.IN_PROGRESS, "started_at": now},
        )
        events.status_changed(deployment_id, Deployment.Status.BUILDING)
    return "claimed"


def _refuse_queued(deployment_id, reason: str) -> bool:
    """Fail a queued build without running it, saying why in its log; False if it was no
    longer queued."""
    failed = {"status": Deployment.Status.FAILED, "error": reason[:2000]}
    if Deployment.objects.filter(pk=deployment_id, status=Deployment.Status.QUEUED).update(
        finished_at=timezone.now(), **failed
    ):
        log_append(deployment_id, reason, "error")
        _stages_finish(deployment_id, Deployment.Status.FAILED, reason)
        events.status_changed(deployment_id, Deployment.Status.FAILED)
        _finished(deployment_id)
        return True
    return False


def build_status_move(*, deployment_id, from_status: str, to_status: str) -> bool:
    """Advance a build only from the status it should be in (a cancel may have won)."""
    now = timezone.now()
    with transaction.atomic():
        moved = Deployment.objects.filter(pk=deployment_id, status=from_status).update(
            status=to_status, heartbeat_at=now
        )
        if moved:
            DeploymentStage.objects.filter(deployment_id=deployment_id, name=from_status).update(
                status=DeploymentStage.Status.COMPLETED, completed_at=now
            )
            DeploymentStage.objects.get_or_create(
                deployment_id=deployment_id,
                name=to_status,
                defaults={"status": DeploymentStage.Status.IN_PROGRESS, "started_at": now},
            )
            events.status_changed(deployment_id, to_status)
    return bool(moved)


def _stages_finish(deployment_id, status: str, error: str = "") -> None:
    now = timezone.now()
    failed = status != Deployment.Status.SUCCESS
    DeploymentStage.objects.filter(
        deployment_id=deployment_id, status=DeploymentStage.Status.IN_PROGRESS
    ).update(
        status=DeploymentStage.Status.FAILED if failed else DeploymentStage.Status.COMPLETED,
        completed_at=now,
        error_message=error if failed else "",
    )
    DeploymentStage.objects.update_or_create(
        deployment_id=deployment_id,
        name=status,
        defaults={
            "status": DeploymentStage.Status.FAILED if failed else DeploymentStage.Status.COMPLETED,
            "started_at": now,
            "completed_at": now,
            "error_message": error,
        },
    )


def build_finish(
    *, deployment_id, status: str, error: str = "", build_duration=None, usage: dict | None = None
) -> Deployment:
    """Record a build's end: final status (unless a cancel came first), stages, duration and
    resource usage (``build_cpu_seconds``, ``build_memory_peak``), then the live event and the
    owner's notifications."""
    now = timezone.now()
    with transaction.atomic():
        if status != Deployment.Status.SUCCESS:
            Deployment.objects.filter(
                pk=deployment_id,
                status__in=[Deployment.Status.BUILDING, Deployment.Status.DEPLOYING],
            ).update(status=status, error=error[:2000], finished_at=now)
        Deployment.objects.filter(pk=deployment_id).update(
            build_duration=build_duration, heartbeat_at=now, build_pgid=None, **(usage or {})
        )
        # A build cancelled while running is finished only now that its builder has stopped.
        Deployment.objects.filter(pk=deployment_id, finished_at__isnull=True).update(
            finished_at=now
        )
        deployment = Deployment.objects.select_related("site", "project", "author").get(
            pk=deployment_id
        )
        _stages_finish(deployment_id, deployment.status, deployment.error)
        events.status_changed(deployment_id, deployment.status)
        _finished(deployment_id)
    return deployment


def _finished(deployment_id) -> None:
    _site_error_if_nothing_live(deployment_id)
    preview = Deployment.objects.filter(pk=deployment_id).values_list("preview", flat=True).first()
    if preview and preview.startswith(PULL_PREFIX):
        enqueue_on_commit("deployments.tasks.preview_status_report", str(deployment_id))
    transaction.on_commit(lambda: deployment_notify(deployment_id=deployment_id))


def _site_error_if_nothing_live(deployment_id) -> None:
    """A site whose first build failed says "error" instead of "provisioning" for ever.

    Only a failure of a production build counts (not a cancel, not a preview's), and only
    while nothing is live: a site that serves an earlier deployment stays online. Its next
    successful deploy brings it online.
    """
    site_ids = Deployment.objects.filter(
        pk=deployment_id, status=Deployment.Status.FAILED, preview=""
    ).values("site_id")
    site_id = (
        Site.objects.filter(
            pk__in=site_ids, status=Site.Status.PROVISIONING, live_deployment__isnull=True
        )
        .values_list("pk", flat=True)
        .first()
    )
    if site_id is None:
        return
    Site.objects.filter(pk=site_id).update(status=Site.Status.ERROR, updated_at=timezone.now())
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))


def deployment_notify(*, deployment_id) -> None:
    """A toast on the open pages of whoever started it (else the team's owner) and an email,
    as their preferences say."""
    from django.core.mail import send_mail

    from accounts.services import preferences_get
    from controlpanel.events import notify_user

    deployment = Deployment.objects.select_related("author", "site__team", "project").get(
        pk=deployment_id
    )
    owner = deployment.author or team_owners(deployment.site.team).first()
    if owner is None:
        return
    name = deployment.repo_name
    status = deployment.status
    if status == Deployment.Status.SUCCESS:
        message, level = f"Deployment of {name} succeeded.", "success"
    elif status == Deployment.Status.FAILED:
        message, level = f"Deployment of {name} failed.", "error"
    else:
        message, level = f"Deployment of {name} was cancelled.", "warning"
    notify_user(owner.pk, message, level, deploymentId=str(deployment.pk))
    prefs = preferences_get(user=owner)
    wanted = prefs.email_notifications and (
        (status == Deployment.Status.SUCCESS and prefs.deploy_success_notifications)
        or (status == Deployment.Status.FAILED and prefs.deploy_failure_notifications)
    )
    if not wanted:
        return
    link = f"{settings.PANEL_URL}/deployments/{deployment.pk}/"
    lines = [message, ""]
    if deployment.commit_hash:
        lines.append(f"Commit {deployment.short_commit}: {deployment.commit_message}")
    if status == Deployment.Status.SUCCESS:
        lines.append(f"Live at {deployment.site.url}")
    elif deployment.error:
        lines.append(f"Reason: {deployment.error}")
    lines += ["", f"Details and logs: {link}"]
    try:
        send_mail(f"[Berth] {message}", "\n".join(lines), None, [owner.email])
    except Exception:  # mail trouble must not fail the build record
        log.warning("Could not email %s about %s", owner.email, deployment_id, exc_info=True)


REAPED = (
    "The build worker stopped responding (it was killed or crashed) and the build was "
    "abandoned. Redeploy to try again."
)
LOG_INCOMPLETE = "The log may be incomplete: the worker stopped before storing its last lines."


def builds_reap(*, stale_after: int | None = None) -> list:
    """Fail builds whose worker stopped writing heartbeats (killed, crashed, lost host).

    The reason is stored in the log before the final status is announced, so a live viewer
    sees it before ``deployment_complete``; processes the dead build left on this host are
    killed. A build cancelled while its worker died is finished the same way. Returns the ids
    of the deployments reaped.
    """
    stale_after = stale_after or settings.BUILD_HEARTBEAT_TIMEOUT
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    running = [Deployment.Status.BUILDING, Deployment.Status.DEPLOYING]
    abandoned = Q(status__in=running) | Q(status=Deployment.Status.CANCELLED, finished_at=None)
    stale = Deployment.objects.filter(abandoned, heartbeat_at__lt=cutoff).values_list(
        "pk", "build_pgid", "build_dir", "worker"
    )
    reaped = []
    for pk, pgid, build_dir, worker in list(stale):
        with transaction.atomic():
            now = timezone.now()
            failed = Deployment.objects.filter(
                pk=pk, status__in=running, heartbeat_at__lt=cutoff
            ).update(status=Deployment.Status.FAILED, error=REAPED, finished_at=now)
            ended = failed or Deployment.objects.filter(
                pk=pk, status=Deployment.Status.CANCELLED, finished_at=None, heartbeat_at__lt=cutoff
            ).update(finished_at=now)
            if not ended:
                continue
            _log_last_words(pk, REAPED if failed else "")
            status = Deployment.Status.FAILED if failed else Deployment.Status.CANCELLED
            _stages_finish(pk, status, REAPED if failed else "Cancelled.")
            events.status_changed(pk, status)
            _finished(pk)
        _leftovers_kill(pgid, build_dir, worker)
        reaped.append(pk)
    return reaped


def _log_last_words(deployment_id, reason: str) -> None:
    """The reaper's lines, numbered after whatever a builder stored last (a builder that was
    only slow may still be writing: then the lines are numbered again after its own)."""
    from deployments.logs import LogWriter

    for _attempt in range(3):
        writer = LogWriter(deployment_id)
        writer.write(LOG_INCOMPLETE, level="warning")
        if reason:
            writer.write(reason, level="error")
        try:
            with transaction.atomic():
                writer.flush()
            return
        except IntegrityError:
            continue


def builds_requeue(*, stale_after: int | None = None) -> list:
    """Send again the task of every queued deployment no worker holds.

    The row is the job record: a deployment waiting for its team's build limit stamps
    ``heartbeat_at`` each time its task looks, so a queued row silent for the heartbeat
    timeout has lost its task (its worker died holding it, or the broker lost it). It gets a
    new task id, in one conditional UPDATE so two reapers never both send it; a late copy
    of the old task is harmless, as the claim lets only one build run. Returns the ids.
    """
    stale_after = stale_after or settings.BUILD_HEARTBEAT_TIMEOUT
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    lost = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at=None, created_at__lt=cutoff)
    requeued = []
    for pk, task_id in list(
        Deployment.objects.filter(lost, status=Deployment.Status.QUEUED).values_list(
            "pk", "task_id"
        )
    ):
        new_id = str(uuid.uuid4())
        with transaction.atomic():
            if not Deployment.objects.filter(
                pk=pk, status=Deployment.Status.QUEUED, task_id=task_id
            ).update(task_id=new_id, heartbeat_at=timezone.now()):
                continue
            enqueue_on_commit("deployments.tasks.build_deployment", str(pk), task_id=new_id)
        log.info("Re-queued deployment %s (its task %s was lost)", pk, task_id)
        requeued.append(pk)
    return requeued


def _leftovers_kill(pgid, build_dir: str, worker: str) -> None:
    """Kill what a dead build left running on this host: processes of its group whose working
    directory is inside its build directory (so a reused group id is never hit)."""
    if not build_dir or not worker.startswith(f"{socket.gethostname()}:"):
        return
    root = Path(build_dir)
    proc = Path("/proc")
    if pgid and proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                pid = int(entry.name)
                if os.getpgid(pid) != pgid:
                    continue
                cwd = Path(os.readlink(entry / "cwd"))
            except (OSError, ValueError):
                continue
            if cwd == root or root in cwd.parents:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    shutil.rmtree(root, ignore_errors=True)
