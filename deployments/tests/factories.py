"""Builders for deployment tests."""

from __future__ import annotations

import io

from hosting.services import site_create


def files(mapping: dict[str, bytes]):
    """{path: bytes} -> the (path, opener) list that deployment_publish takes."""
    return [(path, (lambda data=data: io.BytesIO(data))) for path, data in mapping.items()]


def make_site(owner, name="Docs", slug=""):
    return site_create(owner=owner, name=name, slug=slug)


def make_repo(root, tree: dict[str, str | bytes], *, branch: str = "main", message="Initial"):
    """A real git repository at ``root`` with one commit of ``tree``; returns its path."""
    import subprocess
    from pathlib import Path

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Lovelace",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    if not (root / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", branch, str(root)], check=True, env=env)
    for path, content in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        if path.endswith(".sh"):
            target.chmod(0o755)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", message], check=True, env=env)
    return root


def head(root) -> str:
    import subprocess

    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


STATIC_SITE = {
    "build.sh": "#!/bin/sh\nset -e\nmkdir -p dist\necho building\ncp index.html dist/\n",
    "index.html": "<!doctype html><title>Hello</title><h1>Hello from git</h1>\n",
}


def make_branch(
    root, branch: str, tree: dict[str, str | bytes], *, message="On a branch", orphan=False
):
    """A new branch of the repository at ``root`` with one more commit of ``tree`` (``orphan``:
    of ``tree`` alone); the repository's HEAD (its default branch) stays where it was."""
    import subprocess
    from pathlib import Path

    root = Path(root)
    current = subprocess.run(
        ["git", "-C", str(root), "symbolic-ref", "--short", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if orphan:
        subprocess.run(["git", "-C", str(root), "checkout", "-q", "--orphan", branch], check=True)
        subprocess.run(["git", "-C", str(root), "rm", "-rfq", "."], check=True)
    else:
        subprocess.run(["git", "-C", str(root), "checkout", "-q", "-b", branch], check=True)
    make_repo(root, tree, message=message)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", current], check=True)
    return root


VITE_APP = {
    "package.json": (
        '{"name": "vite-app", "private": true, "type": "module",\n'
        ' "scripts": {"dev": "vite", "build": "vite build"},\n'
        ' "devDependencies": {"vite": "^5.4.0"}}\n'
    ),
    "index.html": '<!doctype html><link rel="icon" href="data:,"><div id="app"></div>'
    '<script type="module" src="/main.js"></script>\n',
    "main.js": "document.getElementById('app').textContent = 'Hello from Vite';\n",
}
