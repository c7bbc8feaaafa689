"""Pull request previews and GitHub: the preview's state reported on the pull request (a
commit status with its address), and previews whose pull request was closed without Berth
hearing of it removed. Writes, like services.py.

Both speak to GitHub with the project owner's connected token (``GitHubConnection``); a project
whose owner has not connected GitHub, or whose repository is not on GitHub, is left alone.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from django.conf import settings

from deployments.github import GitHubClient, GitHubError
from deployments.models import Deployment, GitHubConnection, Project

log = logging.getLogger(__name__)

PULL_PREFIX = "pr-"
STATUS_CONTEXT = "Berth preview"
_FULL_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def github_repository(project: Project) -> str:
    """``owner/name`` of a project's GitHub repository, or empty when it is not on GitHub."""
    if _FULL_NAME.match(project.repository or ""):
        return project.repository
    for url in (project.clone_url, project.repository):
        parts = urlsplit(url or "")
        if parts.hostname == "github.com":
            name = parts.path.strip("/").removesuffix(".git")
            if _FULL_NAME.match(name):
                return name
    return ""


def _client(project: Project) -> tuple[GitHubClient, str] | None:
    full_name = github_repository(project)
    if not full_name:
        return None
    connection = GitHubConnection.objects.filter(user_id=project.owner_id).first()
    if connection is None or not connection.access_token:
        return None
    return GitHubClient(connection.access_token), full_name


def is_pull_preview(deployment: Deployment) -> bool:
    return deployment.preview.startswith(PULL_PREFIX)


def _status_for(deployment: Deployment) -> tuple[str, str, str]:
    """(state, description, target URL) of a pull request preview's build."""
    page = f"{settings.PANEL_URL}/deployments/{deployment.pk}/"
    status = deployment.status
    if status == Deployment.Status.SUCCESS:
        return "success", "Preview ready.", deployment.preview_url or page
    if status == Deployment.Status.FAILED:
        reason = (deployment.error or "The build failed.").splitlines()[0]
        return "failure", f"Preview build failed: {reason}", page
    if status == Deployment.Status.CANCELLED:
        return "error", "Preview build cancelled.", page
    return "pending", "Building the preview…", page


def preview_status_report(*, deployment_id) -> str:
    """Tell GitHub the pull request preview's state (pending, ready with its address, failed).

    Returns what was reported, or why nothing was; a GitHub error propagates (the task
    retries it)."""
    deployment = (
        Deployment.objects.select_related("site", "project").filter(pk=deployment_id).first()
    )
    if deployment is None or deployment.project is None or not is_pull_preview(deployment):
        return "not a pull request preview"
    if not re.fullmatch(r"[0-9a-f]{40}", deployment.commit_hash or ""):
        return "no commit"
    found = _client(deployment.project)
    if found is None:
        return "not reported: the repository is not on GitHub or its owner has not connected it"
    client, full_name = found
    state, description, target = _status_for(deployment)
    client.commit_status_create(
        full_name,
        deployment.commit_hash,
        state=state,
        target_url=target,
        description=description,
        context=STATUS_CONTEXT,
    )
    return state


def pull_previews_reconcile() -> int:
    """Remove pull request previews whose pull request GitHub says is closed (or gone), for
    when the ``closed`` webhook was never delivered. A project GitHub cannot be asked about
    removes nothing. Returns how many previews were removed."""
    from deployments.services import _preview_remove

    removed = 0
    projects = Project.objects.filter(
        pk__in=Deployment.objects.filter(preview__startswith=PULL_PREFIX).values("project_id")
    )
    for project in projects:
        found = _client(project)
        if found is None:
            continue
        client, full_name = found
        labels = set(
            Deployment.objects.filter(site_id=project.site_id, preview__startswith=PULL_PREFIX)
            .values_list("preview", flat=True)
            .distinct()
        )
        for label in sorted(labels):
            number = label[len(PULL_PREFIX) :]
            if not number.isdigit():
                continue
            try:
                state = client.pull(full_name, int(number)).get("state")
            except GitHubError as exc:
                if exc.status != 404:  # unreachable or refused: ask again next time
                    log.info("Pull request %s#%s not reconciled: %s", full_name, number, exc)
                    continue
                state = "gone"
            if state != "open":
                _preview_remove(site_id=project.site_id, label=label)
                removed += 1
    return removed
