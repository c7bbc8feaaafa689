"""Projects: a site's git source and build settings. Writes, like services.py.

The first deployment of a repository creates its project and a site named after it.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError

from deployments import dependency_cache, frameworks, git, remotes
from deployments.models import GitHubConnection, Project
from teams.services import acting_team

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
RESERVED_ENV = {"PATH", "HOME", "LANG"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RepositorySource:
    name: str
    repository: str
    clone_url: str
    github_repo_id: str = ""
    default_branch: str = ""


def env_vars_parse(text: str) -> dict[str, str]:
    """``KEY=value`` lines (blank lines and ``#`` comments ignored) -> a dict, validated."""
    result: dict[str, str] = {}
    errors = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].strip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not ENV_NAME_RE.match(key):
            errors.append(f"Line {number}: write NAME=value (letters, digits and _).")
            continue
        if key in RESERVED_ENV:
            errors.append(f"Line {number}: {key} is set by the builder.")
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result[key] = value
    if errors:
        raise ValidationError({"env_vars": errors})
    return result


def project_env(project: Project | None, *, preview: bool = False) -> dict[str, str]:
    """A build's variables: production's, or for a preview build only the preview ones."""
    if project is None:
        return {}
    stored = project.preview_env_vars if preview else project.env_vars
    return json.loads(stored) if stored else {}


def repository_resolve(*, user, repository: str) -> RepositorySource:
    """A git URL (validated) or the name of a repository of the user's connected GitHub."""
    from deployments.connections import github_repo_find
    from deployments.github import GitHubError

    repository = (repository or "").strip()
    if not repository:
        raise ValidationError({"repository": ["Choose a repository or enter a git URL."]})
    if git.is_url(repository):
        url = git.clone_url_for(repository)
        return RepositorySource(name=git.name_from_url(url), repository=repository, clone_url=url)
    connection = GitHubConnection.objects.filter(user=user).first()
    if connection is None:
        raise ValidationError(
            {"repository": [f"Connect GitHub to deploy “{repository}”, or enter a git URL."]}
        )
    try:
        repo = github_repo_find(connection=connection, name=repository)
    except GitHubError as exc:
        raise ValidationError({"repository": [str(exc)]}) from exc
    if repo is None:
        raise ValidationError(
            {"repository": [f"“{repository}” is not among your GitHub repositories."]}
        )
    return RepositorySource(
        name=repo["name"],
        repository=repo["full_name"],
        clone_url=git.clone_url_for(repo.get("clone_url", "")),
        github_repo_id=str(repo.get("id", "")),
        default_branch=repo.get("default_branch") or "",
    )


def output_dir_clean(value: str | None, *, field: str = "output_dir") -> str:
    """A relative folder inside the repository; empty means “detect it at build time”."""
    value = (value or "").strip()
    if not value:
        return ""
    value = value.strip("/") or "."
    if value.startswith("-") or ".." in Path(value).parts or _CONTROL.search(value):
        raise ValidationError({field: ["The output directory must be inside the repository."]})
    return value


def project_settings_check(
    *, branch: str = "", output_dir: str | None = None, env_vars: str | None = None
) -> None:
    """The checks that need no repository, run before the ones that do."""
    if (branch or "").strip():
        git.validate_branch(branch)
    if output_dir is not None:
        output_dir_clean(output_dir)
    if env_vars:
        env_vars_parse(env_vars)


def source_token(*, user, source: RepositorySource) -> str:
    from deployments.connections import github_token_for_user

    return github_token_for_user(user_id=user.pk, clone_url=source.clone_url)


def repository_branches(*, user, source: RepositorySource) -> remotes.RemoteBranches:
    """The repository's branches (``git ls-remote``); a ValidationError says why it cannot be
    read (unreachable, private, no branches)."""
    try:
        return remotes.branches_list(source.clone_url, token=source_token(user=user, source=source))
    except remotes.RemoteError as exc:
        raise ValidationError(
            {"repository": [f"Could not read the repository {source.repository}: {exc}."]}
        ) from None


def branch_verify(*, user, source: RepositorySource, branch: str = "") -> str:
    """The branch to build: the one asked for (it must exist), else the project's, else the
    repository's default branch. An unknown branch is refused, naming the branches there are."""
    branch = (branch or "").strip()
    if branch:
        git.validate_branch(branch)
    else:
        existing = Project.objects.filter(
            team=acting_team(user), repository=source.repository
        ).first()
        branch = existing.branch if existing else ""
    found = repository_branches(user=user, source=source)
    if not branch:
        return found.default_branch
    if branch not in found:
        shown = ", ".join(found.branches[:20]) + (" …" if len(found.branches) > 20 else "")
        raise ValidationError(
            {
                "branch": [
                    f"There is no branch “{branch}” in {source.repository}. Its branches: {shown}."
                ]
            }
        )
    return branch


def repository_detect(*, user, source: RepositorySource, branch: str) -> frameworks.Detection:
    """Framework detection on a branch's files, fetched shallowly into a temporary folder."""
    try:
        return remotes.branch_inspect(
            source.clone_url,
            branch,
            token=source_token(user=user, source=source),
            inspect=frameworks.detect,
        )
    except remotes.RemoteError as exc:
        raise ValidationError(
            {"repository": [f"Could not fetch {branch} of {source.repository}: {exc}."]}
        ) from None


def project_save(
    *,
    user,
    source: RepositorySource,
    branch: str = "",
    install_command: str | None = None,
    build_command: str | None = None,
    output_dir: str | None = None,
    env_vars: str | None = None,
    auto_deploy: bool | None = None,
    team=None,
) -> Project:
    """The team's project for a repository: created with its site on first use, else updated.

    ``team`` defaults to the one ``user`` acts in.

    Settings left as None keep their stored value.
    """
    from hosting.services import site_create

    team = team or acting_team(user)
    project = Project.objects.filter(team=team, repository=source.repository).first()
    created = project is None
    if created:
        site = site_create(owner=user, name=source.name, team=team)
        project = Project(
            team=team,
            owner=user,
            site=site,
            name=source.name,
            repository=source.repository,
            webhook_secret=secrets.token_hex(20),
            build_command="",
            output_dir="",
        )
    project.clone_url = source.clone_url
    project.github_repo_id = source.github_repo_id or project.github_repo_id
    if branch or created:
        project.branch = git.validate_branch(branch or source.default_branch or "main")
    if install_command is not None:
        project.install_command = install_command.strip()
    if build_command is not None:
        project.build_command = build_command.strip()
    if output_dir is not None:
        project.output_dir = output_dir_clean(output_dir)
    if env_vars is not None:
        project.env_vars = json.dumps(env_vars_parse(env_vars)) if env_vars.strip() else ""
    if auto_deploy is not None:
        project.auto_deploy = auto_deploy
    project.full_clean(exclude=["site", "owner", "team"])
    project.save()
    return project


def project_update(
    *,
    project: Project,
    branch: str,
    install_command: str,
    build_command: str,
    output_dir: str,
    auto_deploy: bool,
    env_vars: str | None = None,
    preview_branches: str | None = None,
    preview_env_vars: str | None = None,
) -> Project:
    """Change a project's build settings; ``env_vars`` None keeps the stored variables.

    A new branch must exist in the repository (asked with ``git ls-remote``).
    """
    branch = git.validate_branch(branch)
    if branch != project.branch:
        source = RepositorySource(
            name=project.name, repository=project.repository, clone_url=project.clone_url
        )
        branch_verify(user=project.owner, source=source, branch=branch)
    project.branch = branch
    project.install_command = install_command.strip()
    project.build_command = build_command.strip()
    project.output_dir = output_dir_clean(output_dir)
    project.auto_deploy = auto_deploy
    if preview_branches is not None:
        project.preview_branches = preview_branches.strip()
    if preview_env_vars is not None:
        parsed = env_vars_parse(preview_env_vars) if preview_env_vars.strip() else {}
        project.preview_env_vars = json.dumps(parsed) if parsed else ""
    if env_vars is not None:
        project.env_vars = json.dumps(env_vars_parse(env_vars)) if env_vars.strip() else ""
    project.full_clean(exclude=["site", "owner", "team"])
    project.save()
    return project


def project_cache_clear(*, project: Project) -> int:
    """Delete the project's dependency cache: the download caches and every cached install.
    The next build installs from scratch. Returns the bytes freed."""
    return dependency_cache.clear(project.pk)
