"""GitHub: the stored connection (token encrypted at rest), repositories, push webhooks.

Writes and reads that call GitHub go through ``deployments.github.GitHubClient``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import json
import re

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from billing.limits import PlanLimitExceeded
from deployments.models import GitHubConnection, Project


def github_repos(*, connection: GitHubConnection, refresh: bool = False) -> list[dict]:
    """The user's repositories from GitHub for the deploy wizard, cached five minutes."""
    from deployments.github import GitHubClient

    key = f"github:repos:{connection.user_id}"
    repos = None if refresh else cache.get(key)
    if repos is None:
        repos = GitHubClient(connection.access_token).repos()
        cache.set(key, repos, 300)
    return repos


def github_repo_find(*, connection: GitHubConnection, name: str) -> dict | None:
    wanted = name.strip().strip("/").lower()
    for repo in github_repos(connection=connection):
        if wanted in (repo.get("full_name", "").lower(), repo.get("name", "").lower()):
            return repo
    return None


def github_token_for(project: Project | None) -> str:
    """The owner's GitHub token when the project clones from github.com; else empty."""
    if project is None:
        return ""
    return github_token_for_user(user_id=project.owner_id, clone_url=project.clone_url)


def github_token_for_user(*, user_id, clone_url: str) -> str:
    """The user's GitHub token for a github.com clone URL; empty for any other host."""
    if not clone_url.startswith("https://github.com/"):
        return ""
    connection = GitHubConnection.objects.filter(user_id=user_id).first()
    return connection.access_token if connection else ""


# --- GitHub connection ------------------------------------------------------------------------


def github_connection_store(
    *,
    user,
    access_token: str,
    refresh_token: str = "",
    expires_at=None,
    github_id: str = "",
    username: str = "",
) -> GitHubConnection:
    """Keep the user's GitHub token (encrypted at rest) for listing repos and cloning."""
    connection, _ = GitHubConnection.objects.update_or_create(
        user=user,
        defaults={
            "access_token": access_token,
            "refresh_token": refresh_token or "",
            "token_expires_at": expires_at,
            "github_id": str(github_id or ""),
            "github_username": username or "",
            "connected_at": timezone.now(),
        },
    )
    cache.delete(f"github:repos:{user.pk}")
    return connection


def github_disconnect(*, user, request=None) -> bool:
    """Forget the user's GitHub token. The allauth account goes too unless it is the user's
    only way to sign in. Returns whether anything was connected."""
    from allauth.socialaccount.models import SocialAccount, SocialToken

    from accounts.models import SecurityEvent
    from accounts.services import security_event_record

    deleted, _ = GitHubConnection.objects.filter(user=user).delete()
    accounts = SocialAccount.objects.filter(user=user, provider="github")
    SocialToken.objects.filter(account__in=accounts).delete()
    others = SocialAccount.objects.filter(user=user).exclude(provider="github").exists()
    removed_accounts = 0
    if user.has_usable_password() or others:
        removed_accounts, _ = accounts.delete()
    if deleted or removed_accounts:
        security_event_record(
            kind=SecurityEvent.Kind.ACCOUNT_DISCONNECTED,
            request=request,
            user=user,
            details={"provider": "github"},
        )
    cache.delete(f"github:repos:{user.pk}")
    return bool(deleted or removed_accounts)


def webhook_push_receive(*, body: bytes, signature: str, event: str, delivery: str = "") -> dict:
    """A GitHub webhook delivery: verified with HMAC-SHA256, then a push to a project's branch
    queues a build of every matching auto-deploy project. Raises PermissionError on a missing or
    wrong signature (nothing happens then), and ``PlanLimitExceeded`` when the only builds it
    would queue are refused by their team's plan."""
    from deployments.builds import deployment_build_queue

    if not signature.startswith("sha256="):
        raise PermissionError("Missing X-Hub-Signature-256.")
    given = signature[7:].strip()

    def signed_with(secret: str) -> bool:
        if not secret:
            return False
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given)

    global_ok = signed_with(settings.GITHUB_WEBHOOK_SECRET)
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        if global_ok:
            return {"ok": False, "message": "The payload is not JSON."}
        raise PermissionError("Invalid signature.")
    repo = payload.get("repository") or {}
    keys = {
        str(repo.get(k, "")).lower().removesuffix(".git")
        for k in ("full_name", "clone_url", "html_url", "ssh_url", "git_url", "url")
        if repo.get(k)
    }
    candidates = list(
        Project.objects.select_related("site", "owner")
        .filter(repository__in=_repository_spellings(keys))
        .order_by("created_at")
    )
    candidates += [
        p
        for p in Project.objects.select_related("site").filter(
            clone_url__in=_repository_spellings(keys)
        )
        if p not in candidates
    ]
    verified = [p for p in candidates if global_ok or signed_with(p.webhook_secret)]
    if not global_ok and not verified:
        raise PermissionError("Invalid signature.")
    if event == "ping":
        return {"ok": True, "message": "pong", "projects": len(verified)}
    if event == "pull_request":
        return _pull_request_receive(payload, verified)
    if event != "push":
        return {"ok": True, "message": f"Ignored event “{event}”."}
    ref = str(payload.get("ref", ""))
    if ref.startswith("refs/heads/") and payload.get("deleted"):
        return _branch_deleted(ref[len("refs/heads/") :], verified)
    if not ref.startswith("refs/heads/"):
        return {"ok": True, "message": "Nothing to deploy.", "deployments": []}
    branch = ref[len("refs/heads/") :]
    queued, refused = [], []
    for project in verified:
        preview = ""
        if project.branch != branch:
            if not _builds_previews(project, branch):
                continue
            from hosting.hostnames import preview_label

            preview = preview_label(branch, project.site.slug)
        if project.auto_deploy or preview:
            try:
                deployment = deployment_build_queue(
                    project=project, author=project.owner, branch=branch, preview=preview
                )
            except PlanLimitExceeded as exc:  # that team's plan; other teams still build
                refused.append(exc)
                continue
            queued.append(str(deployment.pk))
    return _queued_answer(queued, refused)


def _queued_answer(queued: list[str], refused: list[PlanLimitExceeded]) -> dict:
    """The webhook's answer; when every project's plan refused, that refusal (402)."""
    if refused and not queued:
        raise refused[0]
    message = f"Queued {len(queued)} deployment(s)."
    if refused:
        message += f" {len(refused)} refused by their team's plan: {refused[0].messages[0]}"
    return {"ok": True, "message": message, "deployments": queued}


def _branch_deleted(branch: str, projects: list[Project]) -> dict:
    """A deleted branch removes its preview (the deployments stay)."""
    from deployments.models import Deployment
    from deployments.services import _preview_remove

    removed = 0
    for project in projects:
        labels = set(
            Deployment.objects.filter(site_id=project.site_id, project=project, branch=branch)
            .exclude(preview="")
            .exclude(preview__startswith="pr-")
            .values_list("preview", flat=True)
        )
        for label in labels:
            _preview_remove(site_id=project.site_id, label=label)
            removed += 1
    return {"ok": True, "message": f"Removed {removed} preview(s).", "deployments": []}


PULL_BUILD_ACTIONS = ("opened", "synchronize", "reopened")


def _pull_request_receive(payload: dict, projects: list[Project]) -> dict:
    """A pull request opened, updated or reopened builds ``pr-<number>--<slug>`` of every
    project with previews (its head commit; from a fork without any variables); closed (or
    merged) removes that preview."""
    from deployments.builds import deployment_build_queue
    from deployments.models import Deployment
    from hosting.hostnames import hostnames_changed

    action = str(payload.get("action", ""))
    pull = payload.get("pull_request") or {}
    number = payload.get("number") or pull.get("number")
    head = pull.get("head") or {}
    sha = str(head.get("sha", ""))
    if not isinstance(number, int) or number < 1:
        return {"ok": False, "message": "The payload names no pull request.", "deployments": []}
    label = f"pr-{number}"
    projects = [p for p in projects if p.preview_branches.strip()]
    if action == "closed":
        removed = 0
        for project in projects:
            removed += Deployment.objects.filter(site=project.site, preview=label).update(
                preview=""
            )
            site_id = project.site_id
            transaction.on_commit(
                lambda s=site_id: hostnames_changed.send(sender=Project, site_id=s)
            )
        return {"ok": True, "message": f"Removed preview {label}.", "deployments": []}
    if action not in PULL_BUILD_ACTIONS:
        return {
            "ok": True,
            "message": f"Ignored pull request action “{action}”.",
            "deployments": [],
        }
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        return {"ok": False, "message": "The pull request has no head commit.", "deployments": []}
    base_repo = ((pull.get("base") or {}).get("repo") or {}).get("full_name")
    head_repo = (head.get("repo") or {}).get("full_name")
    from_fork = not head_repo or head_repo != base_repo
    branch = str(head.get("ref", ""))
    queued, refused = [], []
    for project in projects:
        try:
            deployment = deployment_build_queue(
                project=project,
                author=project.owner,
                branch=branch if branch and not from_fork else project.branch,
                preview=label,
                commit_hash=sha,
                from_fork=from_fork,
            )
        except PlanLimitExceeded as exc:  # that team's plan; other teams still build
            refused.append(exc)
            continue
        queued.append(str(deployment.pk))
    return _queued_answer(queued, refused)


def _builds_previews(project: Project, branch: str) -> bool:
    """Whether a push to ``branch`` (not the production one) builds a preview."""
    pattern = project.preview_branches.strip()
    return bool(pattern) and fnmatch.fnmatchcase(branch, pattern)


def _repository_spellings(keys: set[str]) -> list[str]:
    spellings = set()
    for key in keys:
        spellings.update({key, f"{key}.git"})
    return sorted(spellings)


def github_configured() -> bool:
    return "github" in settings.SOCIALACCOUNT_PROVIDERS


def github_authorize_url(request, *, next_url: str = "/deploy/", browser: bool = True) -> str:
    """Where the browser goes to authorise Berth on GitHub (allauth's "connect" process).

    A browser session gets GitHub's own authorize URL (allauth stashes the state in that
    session); a bearer-token client gets the panel page that starts the same flow.
    """
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = "/deploy/"
    if browser and request.user.is_authenticated and request.session.session_key:
        from allauth.socialaccount.adapter import get_adapter

        provider = get_adapter(request).get_provider(request, "github")
        return provider.redirect(request, "connect", next_url=next_url)["Location"]
    return f"{settings.PANEL_URL}{reverse('deployments:github-connect')}?next={next_url}"


def github_token_received(*, social_token) -> None:
    """allauth stored a GitHub token: keep it encrypted here and empty allauth's copy."""
    from allauth.socialaccount.models import SocialToken

    account = social_token.account
    if account.provider != "github" or not social_token.token:
        return
    extra = account.extra_data or {}
    github_connection_store(
        user=account.user,
        access_token=social_token.token,
        refresh_token=social_token.token_secret or "",
        expires_at=social_token.expires_at,
        github_id=account.uid,
        username=extra.get("login", ""),
    )
    SocialToken.objects.filter(pk=social_token.pk).update(token="", token_secret="")
