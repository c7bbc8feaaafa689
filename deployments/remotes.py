"""Reading a repository before it is built: its branches and the files that name its framework.

The deploy wizard lists a repository's branches (``git ls-remote``) and preselects the one its
HEAD points at, and a deploy of a branch that does not exist is refused before anything is
created. Framework detection needs a few files of the branch: a shallow fetch into a temporary
directory, read through ``git ls-tree`` / ``git cat-file`` without checking anything out.

This runs in the panel's process, outside the build sandbox, so git is held tightly: argument
lists only (the URL after ``--``), the transports of ``git.allowed_protocols()`` (which also binds
redirects and submodules), no system or global configuration, no hooks, no prompts, and a
timeout that kills git and its transport helpers together.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import tempfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from deployments import git

TIMEOUT = 30  # seconds for one git command against a remote
FETCH_TIMEOUT = 60  # seconds for the shallow fetch of a branch
MAX_BRANCHES = 1000
MAX_FILE = 256 * 1024  # detection reads small configuration files only


class RemoteError(Exception):
    """A user-facing reason the repository could not be read."""


@dataclass(frozen=True)
class RemoteBranches:
    default_branch: str
    branches: list[str] = field(default_factory=list)
    heads: dict[str, str] = field(default_factory=dict)  # branch -> commit

    def __contains__(self, branch: str) -> bool:
        return branch in self.heads


def git_env(home: Path, token: str = "") -> dict:
    """A clean environment for git: nothing of the panel's, no configuration files, no prompt,
    and ``git.protective_config()`` (no hooks, only the allowed transports).

    A GitHub token travels in a config header through the environment, never in argv or a URL.
    """
    env = {
        "PATH": settings.BUILD_PATH,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "GIT_ALLOW_PROTOCOL": git.allowed_protocols(),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    config = git.protective_config()
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        config.append(("http.https://github.com/.extraheader", f"AUTHORIZATION: basic {basic}"))
    env["GIT_CONFIG_COUNT"] = str(len(config))
    for index, (key, value) in enumerate(config):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def git_reason(stderr: str) -> str:
    """The line of git's error output that says what went wrong, in plain words."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reasons = [
        line.split(": ", 1)[1]
        for line in lines
        if line.startswith(("fatal: ", "error: ")) and ": " in line
    ]
    # git often ends with a generic line after the specific one.
    specific = [r for r in reasons if not r.startswith("Could not read from remote")]
    if specific or reasons:
        return _plain((specific or reasons)[0])
    return _plain(lines[-1]) if lines else "git gave no reason"


def _plain(reason: str) -> str:
    if "terminal prompts disabled" in reason or "could not read Username" in reason:
        return "the repository is private or does not exist (git asked for credentials)"
    if "transport" in reason and "not allowed" in reason:
        return "its transport is not allowed on this server"
    return reason.rstrip(".")[:300]


def _run(argv: list[str], *, env: dict, cwd: Path, timeout: float | None = None) -> str:
    """Run git to completion in its own process group; RemoteError with git's reason."""
    timeout = timeout or TIMEOUT
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RemoteError(f"the repository did not answer within {int(timeout)} seconds") from None
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    if proc.returncode != 0:
        raise RemoteError(git_reason(err.decode("utf-8", errors="replace")))
    return out.decode("utf-8", errors="replace")


def branches_list(clone_url: str, *, token: str = "") -> RemoteBranches:
    """The repository's branches and its default branch (what its HEAD points at).

    ``clone_url`` must have passed ``git.clone_url_for``. Raises RemoteError when the
    repository cannot be reached or has no branches.
    """
    with tempfile.TemporaryDirectory(prefix="berth-remote-") as tmp:
        out = _run(
            ["git", "ls-remote", "--symref", "--", clone_url, "HEAD", "refs/heads/*"],
            env=git_env(Path(tmp), token),
            cwd=Path(tmp),
        )
    default, heads = "", {}
    for line in out.splitlines():
        left, _, ref = line.partition("\t")
        if left.startswith("ref: ") and ref == "HEAD":
            target = left[5:].strip()
            if target.startswith("refs/heads/"):
                default = target[len("refs/heads/") :]
        elif ref.startswith("refs/heads/") and len(heads) < MAX_BRANCHES:
            heads[ref[len("refs/heads/") :]] = left.strip()
    if not heads:
        raise RemoteError("the repository has no branches yet; push a commit first")
    branches = sorted(heads, key=lambda name: (name != default, name.lower()))
    if default not in heads:
        default = next((b for b in ("main", "master") if b in heads), branches[0])
        branches = sorted(heads, key=lambda name: (name != default, name.lower()))
    return RemoteBranches(default_branch=default, branches=branches, heads=heads)


class TreeFiles:
    """A commit's files read straight from git's object store (nothing checked out).

    Only regular files are read; symbolic links and submodules count as absent, so a
    repository cannot point detection at a file outside itself.
    """

    def __init__(self, repo: Path, env: dict, rev: str = "FETCH_HEAD"):
        self.repo, self.env, self.rev = repo, env, rev
        listing = _run(
            ["git", "ls-tree", "-r", "-z", "--full-tree", rev], env=env, cwd=repo, timeout=60
        )
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        for entry in listing.split("\0"):
            meta, _, path = entry.partition("\t")
            if not path or not meta.startswith(("100644", "100755")):
                continue
            self.files.add(path)
            parts = path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                self.dirs.add("/".join(parts[:depth]))

    def is_file(self, path: str) -> bool:
        return path in self.files

    def is_dir(self, path: str) -> bool:
        return path in self.dirs

    def read(self, path: str) -> str | None:
        if path not in self.files:
            return None
        proc = subprocess.run(
            ["git", "cat-file", "blob", f"{self.rev}:{path}"],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            timeout=30,
        )
        if proc.returncode != 0 or len(proc.stdout) > MAX_FILE:
            return None
        return proc.stdout.decode("utf-8", errors="replace")


def branch_inspect(clone_url: str, branch: str, *, token: str = "", inspect):
    """Shallow-fetch ``branch`` into a temporary directory and return ``inspect(TreeFiles)``.

    The temporary directory is removed before returning, whatever happens.
    """
    branch = git.validate_branch(branch)
    with tempfile.TemporaryDirectory(prefix="berth-inspect-") as tmp:
        root = Path(tmp)
        repo, home = root / "repo", root / "home"
        home.mkdir()
        env = git_env(home, token)
        _run(["git", "init", "--quiet", "--bare", str(repo)], env=env, cwd=root)
        _run(
            [
                "git",
                "fetch",
                "--quiet",
                "--depth",
                "1",
                "--no-tags",
                "--no-recurse-submodules",
                "--",
                clone_url,
                f"refs/heads/{branch}",
            ],
            env=env,
            cwd=repo,
            timeout=FETCH_TIMEOUT,
        )
        return inspect(TreeFiles(repo, env))
