"""A project's dependency cache: installed dependencies kept between builds.

Each project has its own folder under ``BUILD_CACHE_ROOT``:

- ``tools/`` — the package managers' download caches (npm's, pip's, ``XDG_CACHE_HOME``),
  mounted read-write at ``/build/cache`` in that project's sandboxes and in no other;
- ``deps/<sha256>/`` — the folders an install produced (``node_modules``, a pinned
  ``.venv``), moved out of the checkout after a successful build. The digest is of the
  lockfile and the files that steer the install, the install command and the tool versions
  the build printed, so any change to them is a miss. Entries are never mounted: a build sees
  only the one restored into its checkout.

A hit moves the entry back into the checkout and the install is skipped. That is only done
where it is safe: a lockfile pins the tree (``package-lock.json``, ``npm-shrinkwrap.json``,
``yarn.lock``, ``pnpm-lock.yaml``; a ``requirements.txt`` whose every line is pinned with
``==``), no workspaces, nothing of the cached folders committed, and the install that filled
the entry wrote nothing else (in the checkout or HOME) that a skipped install would miss.

The whole cache of a project is held under ``BUILD_CACHE_MAX_MB``: after each build the least
recently used entries (the download caches count as one) are deleted until it fits.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

NODE_LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
# Files that change what an install does without changing the lockfile.
NODE_STEERING = ("package.json", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmfile.cjs")
VENV = ".venv"
META = "meta.json"
TOOLS = "tools"
ENTRIES = "deps"
KEY_VERSION = 1


@dataclass(frozen=True)
class CacheKey:
    """What an install depends on, and the folders it produces."""

    digest: str
    folders: tuple[str, ...]
    inputs: tuple[str, ...]  # the files hashed, for the log

    @property
    def short(self) -> str:
        return self.digest[:12]


@dataclass(frozen=True)
class Decision:
    """A key, or why the cache cannot be used for this checkout (for the log)."""

    key: CacheKey | None = None
    reason: str = ""


@dataclass
class Entry:
    name: str
    size: int
    last_used: float
    folders: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()

    @property
    def last_used_at(self) -> datetime:
        return datetime.fromtimestamp(self.last_used, tz=UTC)


@dataclass
class Usage:
    """A project's cache on disk: its entries (newest first) and the download caches."""

    entries: list[Entry] = field(default_factory=list)
    tools_size: int = 0
    limit: int = 0

    @property
    def size(self) -> int:
        return self.tools_size + sum(entry.size for entry in self.entries)


def limit_bytes() -> int:
    return int(settings.BUILD_CACHE_MAX_MB * 1024 * 1024)


def project_root(project_id) -> Path:
    return Path(settings.BUILD_CACHE_ROOT) / str(project_id)


def tools_folder(project_id) -> Path:
    """The folder mounted at /build/cache in the project's sandboxes."""
    return project_root(project_id) / TOOLS


def _entries_folder(project_id) -> Path:
    return project_root(project_id) / ENTRIES


def _digest_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _regular(path: Path) -> bool:
    """A regular file of the checkout (a symlink could point anywhere on the host)."""
    return path.is_file() and not path.is_symlink()


def _pinned_requirements(text: str) -> bool:
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    return bool(lines) and all("==" in line and not line.startswith("-") for line in lines)


def key_for(checkout: Path, *, install_command: str, tools: str) -> Decision:
    """The cache key of this checkout's install, or why there is none."""
    if not install_command.strip():
        return Decision(reason="no install step")
    files: list[str] = []
    folders: list[str] = []
    package = checkout / "package.json"
    if _regular(package):
        lockfiles = [name for name in NODE_LOCKFILES if _regular(checkout / name)]
        if not lockfiles:
            return Decision(reason="no lockfile (package-lock.json, yarn.lock or pnpm-lock.yaml)")
        try:
            manifest = json.loads(package.read_text(errors="replace"))
        except ValueError:
            manifest = {}
        if (isinstance(manifest, dict) and manifest.get("workspaces")) or (
            checkout / "pnpm-workspace.yaml"
        ).exists():
            return Decision(reason="workspaces keep node_modules in several folders")
        files += lockfiles + [name for name in NODE_STEERING if _regular(checkout / name)]
        folders.append("node_modules")
    requirements = checkout / "requirements.txt"
    if VENV in install_command and _regular(requirements):
        if _pinned_requirements(requirements.read_text(errors="replace")):
            files.append("requirements.txt")
            folders.append(VENV)
        elif not folders:
            return Decision(reason="requirements.txt pins not every package with ==")
    if not folders:
        return Decision(reason="no lockfile")
    for folder in folders:
        if os.path.lexists(checkout / folder):
            return Decision(reason=f"the repository contains {folder}")
    material = {
        "version": KEY_VERSION,
        "install": install_command.strip(),
        "tools": tools.strip(),
        "folders": folders,
        "files": {name: _digest_file(checkout / name) for name in sorted(files)},
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
    return Decision(key=CacheKey(digest, tuple(folders), tuple(sorted(files))))


# --- moving folders ---------------------------------------------------------------------------


def _make_writable(function, path, _exc_info) -> None:
    """rmtree's error handler: a build may leave folders without write permission."""
    parent = os.path.dirname(path)
    try:
        os.chmod(parent, stat.S_IRWXU)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
        function(path)
    except OSError:
        pass


def remove_tree(path: Path) -> None:
    if os.path.islink(path) or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, onerror=_make_writable)


def _move(source: Path, target: Path) -> None:
    """Rename (the cache and the builds on one file system), else copy and delete."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copytree(source, target, symlinks=True)
        remove_tree(source)


def tree_size(path: Path) -> int:
    """Bytes a folder takes on disk (each inode once, symlinks not followed)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
            if stat.S_ISDIR(info.st_mode):
                stack.append(Path(entry.path))
    return total


def _read_meta(folder: Path) -> dict:
    try:
        data = json.loads((folder / META).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def restore(project_id, key: CacheKey, checkout: Path) -> bool:
    """Move the entry for ``key`` into the checkout; False on a miss.

    The entry leaves the cache while the build runs (two builds never share one folder); a
    successful build puts it back with ``save``."""
    entry = _entries_folder(project_id) / key.digest
    claimed = entry.with_name(f".restoring-{secrets.token_hex(8)}")
    try:
        os.rename(entry, claimed)
    except FileNotFoundError:
        return False
    try:
        meta = _read_meta(claimed)
        if tuple(meta.get("folders", ())) != key.folders or not all(
            (claimed / name).is_dir() and not (claimed / name).is_symlink() for name in key.folders
        ):
            return False
        for name in key.folders:
            _move(claimed / name, checkout / name)
        return True
    finally:
        remove_tree(claimed)


def save(project_id, key: CacheKey, checkout: Path) -> Entry | None:
    """Move the folders ``key`` names from the checkout into the cache; None when the install
    produced none of them."""
    present = [name for name in key.folders if (checkout / name).is_dir()]
    present = [name for name in present if not (checkout / name).is_symlink()]
    if len(present) != len(key.folders):
        return None
    entries = _entries_folder(project_id)
    entries.mkdir(parents=True, exist_ok=True)
    incoming = entries / f".incoming-{secrets.token_hex(8)}"
    incoming.mkdir()
    try:
        for name in key.folders:
            _move(checkout / name, incoming / name)
        size = tree_size(incoming)
        now = time.time()
        meta = {"folders": list(key.folders), "inputs": list(key.inputs), "size": size}
        (incoming / META).write_text(json.dumps(meta))
        os.utime(incoming, (now, now))
        target = entries / key.digest
        try:
            os.rename(incoming, target)
        except OSError as exc:  # another build of the same key saved first: keep theirs
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            return None
        return Entry(key.digest, size, now, key.folders, key.inputs)
    finally:
        remove_tree(incoming)


def snapshot(*roots: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Every path under ``roots`` (not following links) with its size, mode and mtime; the
    top-level names in ``skip`` and ``.git`` are left out."""
    found: dict[str, tuple] = {}
    for index, root in enumerate(roots):
        stack = [(root, True)]
        while stack:
            folder, top = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if top and (entry.name in skip or entry.name == ".git"):
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                found[f"{index}:{entry.path}"] = (info.st_size, info.st_mode, info.st_mtime_ns)
                if stat.S_ISDIR(info.st_mode):
                    stack.append((Path(entry.path), False))
    return found


def written_outside(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    """Paths created, changed or deleted between two snapshots (folders' own times ignored)."""
    changed = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new or (old and new and stat.S_ISDIR(old[1]) and old[1] == new[1]):
            continue
        changed.append(path.split(":", 1)[1])
    return changed


def touch_tools(project_id) -> None:
    """The download caches are in use (they count as one entry for the eviction)."""
    folder = tools_folder(project_id)
    now = time.time()
    os.utime(folder, (now, now))


def usage(project_id) -> Usage:
    """The project's cache as it is on disk now (sizes recorded when entries were saved)."""
    result = Usage(limit=limit_bytes())
    entries = _entries_folder(project_id)
    if entries.is_dir():
        for folder in entries.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            meta = _read_meta(folder)
            result.entries.append(
                Entry(
                    name=folder.name,
                    size=int(meta.get("size") or 0),
                    last_used=folder.stat().st_mtime,
                    folders=tuple(meta.get("folders", ())),
                    inputs=tuple(meta.get("inputs", ())),
                )
            )
    result.entries.sort(key=lambda entry: entry.last_used, reverse=True)
    sizes = project_root(project_id) / "tools.json"
    try:
        result.tools_size = int(json.loads(sizes.read_text()).get("size", 0))
    except (OSError, ValueError, AttributeError):
        result.tools_size = 0
    return result


def enforce_limit(project_id) -> list[Entry]:
    """Delete least recently used entries until the project's cache fits BUILD_CACHE_MAX_MB;
    the download caches are one entry. Returns what was deleted."""
    tools = tools_folder(project_id)
    tools_size = tree_size(tools) if tools.is_dir() else 0
    (project_root(project_id) / "tools.json").write_text(json.dumps({"size": tools_size}))
    current = usage(project_id)
    candidates = list(current.entries)
    if tools.is_dir():
        candidates.append(Entry(TOOLS, tools_size, tools.stat().st_mtime))
    candidates.sort(key=lambda entry: entry.last_used)
    total = current.size
    evicted = []
    for entry in candidates:
        if total <= current.limit:
            break
        if entry.name == TOOLS:
            remove_tree(tools)
            tools.mkdir()
            (project_root(project_id) / "tools.json").write_text(json.dumps({"size": 0}))
        else:
            remove_tree(_entries_folder(project_id) / entry.name)
        total -= entry.size
        evicted.append(entry)
    return evicted


def clear(project_id) -> int:
    """Delete the project's whole cache; returns the bytes it held."""
    root = project_root(project_id)
    if not root.exists():
        return 0
    held = tree_size(root)
    # Renamed first, so a build starting now makes a fresh cache instead of finding half of one.
    doomed = root.with_name(f".clearing-{root.name}-{secrets.token_hex(4)}")
    try:
        os.rename(root, doomed)
    except FileNotFoundError:
        return 0
    remove_tree(doomed)
    return held


def megabytes(size: float) -> str:
    """A size for the build log: "840 KB", "12.3 MB", "1.5 GB"."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{max(size, 0) / 1024:.0f} KB"


class DependencyStep:
    """The cache's part in one build: decide the key, restore before the install (which is
    then skipped), watch what the install writes, save and trim after a successful build. Every
    decision is one line of the build's log."""

    def __init__(self, project_id, checkout: Path, home: Path, writer):
        self.project_id = project_id
        self.checkout = checkout
        self.home = home
        self.writer = writer
        self.decision = Decision(reason="no install step")
        self.hit = False
        self.unsafe: list[str] = []

    def _say(self, message: str) -> None:
        self.writer.write(f"Dependency cache: {message}", level="info")

    def decide(self, install_command: str, *, tools: str) -> None:
        if not install_command.strip():
            return
        self.decision = key_for(self.checkout, install_command=install_command, tools=tools)
        if self.decision.key is None:
            self._say(f"not used ({self.decision.reason}).")

    def restore(self) -> bool:
        """True on a hit: the install's folders are back in the checkout."""
        key = self.decision.key
        if key is None:
            return False
        folder = tools_folder(self.project_id)
        if folder.is_dir():
            touch_tools(self.project_id)
        what = " and ".join(key.folders)
        if restore(self.project_id, key, self.checkout):
            self.hit = True
            self._say(
                f"hit — {what} restored (key {key.short}: {', '.join(key.inputs)}, the install "
                "command and tool versions unchanged); skipping the install."
            )
            return True
        self._say(f"miss (no {what} cached for key {key.short}); installing.")
        return False

    def watching_install(self):
        """Around the install: anything it writes outside the cached folders (in the checkout
        or HOME) would be missing after a hit, so such an install is not cached."""
        return _InstallWatch(self)

    def _shown(self, path: str) -> str:
        for root, label in ((self.checkout, ""), (self.home, "~/")):
            with_sep = f"{root}{os.sep}"
            if path.startswith(with_sep):
                return label + path[len(with_sep) :]
        return path

    def save(self, output: Path) -> None:
        """After a successful build: keep the install's folders, then trim the cache."""
        key = self.decision.key
        if key is not None and not self.unsafe:
            output = output.resolve()
            folders = {name: (self.checkout / name).resolve() for name in key.folders}
            inside = [n for n, path in folders.items() if path == output or path in output.parents]
            missing = [name for name in key.folders if not (self.checkout / name).is_dir()]
            if inside:
                self._say(f"not saved (the output directory is inside {inside[0]}).")
            elif missing:
                self._say(f"nothing saved (the install left no {missing[0]}).")
            else:
                entry = save(self.project_id, key, self.checkout)
                if entry is not None:
                    verb = "kept" if self.hit else "saved"
                    self._say(
                        f"{verb} {' and '.join(key.folders)} ({megabytes(entry.size)}, "
                        f"key {key.short})."
                    )
        if not project_root(self.project_id).is_dir():
            return
        evicted = enforce_limit(self.project_id)
        if evicted:
            names = ", ".join(
                "download caches" if e.name == TOOLS else f"entry {e.name[:12]}" for e in evicted
            )
            freed = megabytes(sum(e.size for e in evicted))
            self._say(
                f"removed the least recently used ({names}; {freed}) "
                f"to stay under {megabytes(limit_bytes())} (BUILD_CACHE_MAX_MB)."
            )
        if key is None and not evicted:
            return
        now = usage(self.project_id)
        self._say(f"{megabytes(now.size)} of {megabytes(now.limit)} used.")


class _InstallWatch:
    def __init__(self, step: DependencyStep):
        self.step = step
        self.before: dict[str, tuple] = {}

    def __enter__(self):
        if self.step.decision.key is not None:
            self.before = snapshot(
                self.step.checkout, self.step.home, skip=self.step.decision.key.folders
            )
        return self

    def __exit__(self, exc_type, exc, tb):
        key = self.step.decision.key
        if key is None or exc_type is not None:
            return False
        after = snapshot(self.step.checkout, self.step.home, skip=key.folders)
        changed = written_outside(self.before, after)
        if changed:
            self.step.unsafe = changed
            shown = ", ".join(self.step._shown(path) for path in changed[:3])
            more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
            self.step._say(
                f"not used for this install: it also wrote {shown}{more}, which skipping it "
                "would lose."
            )
        return False
