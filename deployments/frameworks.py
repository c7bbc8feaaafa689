"""Framework detection: the install command, build command and output directory a repository's
files imply (Vite, Next.js static export, Astro, SvelteKit, Vue CLI, Create React App, MkDocs,
Hugo, plain static files).

It reads files through a small interface (``is_file``, ``is_dir``, ``read``) so the same rules
run on a build's checkout (``DirectoryFiles``) and on a branch fetched for the deploy wizard
before anything is created (``deployments.remotes.TreeFiles``). Only regular files inside the
repository are read: a symbolic link counts as absent.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

MAX_FILE = 256 * 1024


class RepoFiles(Protocol):
    def is_file(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def read(self, path: str) -> str | None: ...


class DirectoryFiles:
    """A checkout on disk; paths are relative and never leave ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _path(self, rel: str) -> Path | None:
        path = self.root / rel
        try:
            inside = path.resolve().is_relative_to(self.root)
        except OSError:
            return None
        # No component may be a link: a checkout could point one at the panel's files.
        current = self.root
        for part in Path(rel).parts:
            current = current / part
            if current.is_symlink():
                return None
        return path if inside else None

    def is_file(self, path: str) -> bool:
        target = self._path(path)
        return bool(target and target.is_file())

    def is_dir(self, path: str) -> bool:
        target = self._path(path)
        return bool(target and target.is_dir())

    def read(self, path: str) -> str | None:
        target = self._path(path)
        if target is None or not target.is_file() or target.stat().st_size > MAX_FILE:
            return None
        return target.read_text(errors="replace")


@dataclass(frozen=True)
class Detection:
    """What a repository's files say about building it. ``framework`` is empty when nothing
    was recognised; ``note`` says what the user should know (a missing tool, a setting)."""

    framework: str = ""
    install_command: str = ""
    build_command: str = ""
    output_dir: str = "."
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


PYTHON_VENV = "python3 -m venv .venv && .venv/bin/pip install"


def _package_manager(files: RepoFiles) -> tuple[str, str]:
    """(install command, how to run a package.json script) from the lockfile."""
    if files.is_file("pnpm-lock.yaml"):
        return "pnpm install --frozen-lockfile", "pnpm run"
    if files.is_file("yarn.lock"):
        return "yarn install --frozen-lockfile", "yarn run"
    if files.is_file("package-lock.json") or files.is_file("npm-shrinkwrap.json"):
        return "npm ci", "npm run"
    return "npm install", "npm run"


def install_command(files: RepoFiles) -> str:
    """The install step a repository's lockfile or requirements imply; empty when none."""
    if files.is_file("package.json"):
        return _package_manager(files)[0]
    if files.is_file("requirements.txt"):
        return f"{PYTHON_VENV} -r requirements.txt"
    return ""


def _package(files: RepoFiles) -> dict | None:
    text = files.read("package.json")
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _dependencies(package: dict) -> set[str]:
    names: set[str] = set()
    for key in ("dependencies", "devDependencies"):
        value = package.get(key)
        if isinstance(value, dict):
            names.update(str(name) for name in value)
    return names


def _first_text(files: RepoFiles, names: list[str]) -> str:
    for name in names:
        text = files.read(name)
        if text is not None:
            return text
    return ""


def _config_value(text: str, key: str) -> str:
    """A quoted string value of ``key`` in a JS/TS config (``outDir: 'public'``)."""
    match = re.search(rf"""\b{key}\s*[:=]\s*['"`]([^'"`\n]+)['"`]""", text)
    return match.group(1).strip() if match else ""


def _relative_dir(value: str, default: str) -> str:
    value = (value or "").strip().strip("/").removeprefix("./")
    if not value or value.startswith("-") or ".." in Path(value).parts or value.startswith("$"):
        return default
    return value


def _node(files: RepoFiles, package: dict) -> Detection | None:
    deps = _dependencies(package)
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    install, run = _package_manager(files)
    build = f"{run} build" if "build" in scripts else ""

    if "next" in deps:
        config = _first_text(files, ["next.config.js", "next.config.mjs", "next.config.ts"])
        exported = re.search(r"""output\s*:\s*['"]export['"]""", config) or "next export" in str(
            scripts.get("build", "")
        )
        out = _relative_dir(_config_value(config, "distDir"), "out") if exported else "out"
        note = (
            ""
            if exported
            else "Next.js builds a static site only with output: 'export' in next.config.js."
        )
        name = "Next.js (static export)" if exported else "Next.js"
        return Detection(name, install, build or "npx next build", out, note)
    if "astro" in deps:
        config = _first_text(files, ["astro.config.mjs", "astro.config.js", "astro.config.ts"])
        out = _relative_dir(_config_value(config, "outDir"), "dist")
        return Detection("Astro", install, build or "npx astro build", out)
    if "@sveltejs/kit" in deps:
        if "@sveltejs/adapter-static" not in deps:
            return Detection(
                "SvelteKit",
                install,
                build or "npx vite build",
                "build",
                "SvelteKit builds a static site with @sveltejs/adapter-static.",
            )
        config = _first_text(files, ["svelte.config.js", "svelte.config.mjs"])
        out = _relative_dir(_config_value(config, "pages"), "build")
        return Detection("SvelteKit (static)", install, build or "npx vite build", out)
    if "@vue/cli-service" in deps:
        config = _first_text(files, ["vue.config.js", "vue.config.mjs"])
        out = _relative_dir(_config_value(config, "outputDir"), "dist")
        return Detection("Vue CLI", install, build or "npx vue-cli-service build", out)
    if "react-scripts" in deps:
        return Detection("Create React App", install, build or "npx react-scripts build", "build")
    if "vite" in deps:
        config = _first_text(
            files, ["vite.config.js", "vite.config.mjs", "vite.config.ts", "vite.config.mts"]
        )
        out = _relative_dir(_config_value(config, "outDir"), "dist")
        return Detection("Vite", install, build or "npx vite build", out)
    if build:
        out = "dist" if not files.is_dir("public") or files.is_dir("src") else "public"
        return Detection(
            "Node.js", install, build, out, "Check the output directory your build writes."
        )
    return None


def _mkdocs(files: RepoFiles) -> Detection | None:
    name = next((n for n in ("mkdocs.yml", "mkdocs.yaml") if files.is_file(n)), "")
    if not name:
        return None
    config = files.read(name) or ""
    match = re.search(r"^site_dir\s*:\s*['\"]?([^'\"\n#]+)", config, re.MULTILINE)
    out = _relative_dir(match.group(1) if match else "", "site")
    if files.is_file("requirements.txt"):
        install = f"{PYTHON_VENV} -r requirements.txt"
    else:
        install = f"{PYTHON_VENV} mkdocs"
    return Detection("MkDocs", install, ".venv/bin/mkdocs build", out)


HUGO_CONFIGS = ["hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json"]


def _hugo(files: RepoFiles) -> Detection | None:
    configured = any(files.is_file(n) for n in HUGO_CONFIGS)
    if not configured:
        # The older config.toml name is shared with other tools: ask for Hugo's folders too.
        legacy = any(files.is_file(n) for n in ("config.toml", "config.yaml"))
        configured = legacy and (files.is_dir("content") or files.is_dir("layouts"))
    if not configured:
        return None
    note = "" if shutil.which("hugo") else "Hugo is not installed on this server."
    return Detection("Hugo", "", "hugo --minify", "public", note)


def _static(files: RepoFiles) -> Detection | None:
    for folder in (".", "public", "site", "docs", "dist", "build", "www"):
        index = "index.html" if folder == "." else f"{folder}/index.html"
        if files.is_file(index):
            return Detection("Static site", "", "", folder)
    return None


def detect(files: RepoFiles) -> Detection:
    """The most specific match; an empty Detection when nothing is recognised."""
    package = _package(files)
    if package is not None:
        found = _node(files, package)
        if found:
            return found
    for rule in (_mkdocs, _hugo, _static):
        found = rule(files)
        if found:
            return found
    return Detection(install_command=install_command(files))


def detect_directory(root: Path) -> Detection:
    return detect(DirectoryFiles(root))
