"""Git sources: which URLs a project may use, branch names, names from URLs.

Nothing here runs a shell: git gets argument lists, a URL never starts with ``-`` and is
always placed after ``--``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

# ref names git accepts for a branch, minus anything that could read as an option.
_BRANCH_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]{1,255}(?<![./])$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def is_url(value: str) -> bool:
    """A URL or local path (as opposed to a GitHub repository name such as “owner/site”)."""
    return "://" in value or value.startswith(("/", "git@", "ssh:"))


def validate_branch(branch: str) -> str:
    branch = (branch or "").strip()
    if not _BRANCH_RE.match(branch) or branch.endswith(".lock"):
        raise ValidationError({"branch": [f"“{branch}” is not a valid branch name."]})
    return branch


def clone_url_for(value: str) -> str:
    """Validate a repository URL and return what git should clone.

    Allowed: ``https://`` URLs, and (when BUILD_ALLOW_LOCAL_REPOSITORIES) ``file://`` URLs and
    absolute local paths, which become ``file://`` URLs so that shallow clones work.
    """
    value = (value or "").strip()
    error = ValidationError({"repository": ["Enter an https:// git URL or a repository name."]})
    if not value or value.startswith("-") or _CONTROL.search(value) or len(value) > 1000:
        raise error
    if value.startswith("/"):
        value = Path(value).as_uri()
    parts = urlsplit(value)
    if parts.scheme == "https":
        if not parts.hostname or parts.hostname.startswith("-"):
            raise error
        return value
    if parts.scheme == "file":
        if not settings.BUILD_ALLOW_LOCAL_REPOSITORIES:
            raise ValidationError(
                {"repository": ["Local repositories are not allowed on this server."]}
            )
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise error
        local = Path(unquote(parts.path)).resolve()
        roots = [Path(root).resolve() for root in settings.BUILD_LOCAL_REPOSITORY_ROOTS]
        if not any(local == root or root in local.parents for root in roots):
            raise ValidationError(
                {"repository": ["Local repositories must be inside BUILD_LOCAL_REPOSITORY_ROOTS."]}
            )
        return value
    raise ValidationError(
        {"repository": ["Only https:// repository URLs (and local file:// paths) are supported."]}
    )


def name_from_url(url: str) -> str:
    """“https://host/team/my-app.git” -> “my-app”."""
    path = urlsplit(url).path.rstrip("/")
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".git"):
        name = name[:-4]
    return name or "site"


def allowed_protocols() -> str:
    """For GIT_ALLOW_PROTOCOL: also binds submodules and redirects (never ext:: or ssh)."""
    return "https:file" if settings.BUILD_ALLOW_LOCAL_REPOSITORIES else "https"


def protective_config() -> list[tuple[str, str]]:
    """Git configuration every clone runs with: no hooks or fsmonitor (a repository's own
    code never runs outside the sandbox), only the allowed transports, including for
    submodules (builds do not fetch submodules; a command that does is still bound)."""
    config = [
        ("core.hooksPath", "/dev/null"),
        ("core.fsmonitor", "false"),
        ("protocol.allow", "never"),
        ("protocol.https.allow", "always"),
        ("submodule.recurse", "false"),
    ]
    if settings.BUILD_ALLOW_LOCAL_REPOSITORIES:
        config.append(("protocol.file.allow", "always"))
    return config
