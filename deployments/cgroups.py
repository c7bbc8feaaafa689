"""Control groups for builds: a memory and a process limit per sandboxed command.

A cgroup limit counts the memory a build really uses (resident pages, page cache it dirties,
tmpfs), never the address space it reserves, so JIT and WebAssembly runtimes that reserve
gigabytes work under it. Berth uses one where the machine lets it create groups:

- cgroup v2 (``/sys/fs/cgroup/cgroup.controllers``): under ``BUILD_CGROUP`` when set (a
  delegated group the panel's user owns, with ``memory`` and ``pids`` in its
  ``cgroup.subtree_control``), else, as root, ``/sys/fs/cgroup/berth-builds``;
- cgroup v1 (a ``memory`` and a ``pids`` hierarchy), as root: ``berth-builds`` in each.

The group also measures what the command used: its CPU time (v2 ``cpu.stat``, v1 the
``cpuacct`` hierarchy where there is one) and its peak memory, for the build's record.

Where neither is possible ``BuildCgroup.create`` returns None and the sandbox falls back to
its memory watchdog (see deployments/sandbox.py). ``BUILD_CGROUP=off`` disables cgroups.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from contextlib import suppress
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")
GROUP = "berth-builds"


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _read_counter(path: Path, key: str) -> int:
    with suppress(OSError, ValueError):
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    return 0


def _v2_parent() -> Path | None:
    configured = (settings.BUILD_CGROUP or "auto").strip()
    if configured == "off" or not (ROOT / "cgroup.controllers").is_file():
        return None
    if configured != "auto":
        parent = Path(configured)
        if not parent.is_absolute():
            parent = ROOT / parent
        return parent
    if os.geteuid() != 0:
        return None
    parent = ROOT / GROUP
    try:
        parent.mkdir(exist_ok=True)
        _write(ROOT / "cgroup.subtree_control", "+memory +pids")
        _write(parent / "cgroup.subtree_control", "+memory +pids")
    except OSError:
        log.info("cgroup v2 is not writable here; builds use the memory watchdog", exc_info=True)
        return None
    return parent


def _v1_parents() -> tuple[Path, Path] | None:
    if (settings.BUILD_CGROUP or "auto").strip() != "auto" or os.geteuid() != 0:
        return None
    memory, pids = ROOT / "memory", ROOT / "pids"
    if not (memory / "memory.limit_in_bytes").is_file() or not (pids / "cgroup.procs").is_file():
        return None
    try:
        (memory / GROUP).mkdir(exist_ok=True)
        (pids / GROUP).mkdir(exist_ok=True)
    except OSError:
        return None
    return memory / GROUP, pids / GROUP


def _v1_accounting(name: str) -> Path | None:
    """A group in v1's ``cpuacct`` hierarchy (which only counts), or None without one."""
    parent = ROOT / "cpuacct"
    if not (parent / "cpuacct.usage").is_file():
        return None
    try:
        (parent / GROUP).mkdir(exist_ok=True)
        (parent / GROUP / name).mkdir(exist_ok=True)
    except OSError:
        return None
    return parent / GROUP / name


class BuildCgroup:
    """One command's groups: limits set before its processes join, removed after."""

    def __init__(self, dirs: list[Path], version: int, cpu: Path | None = None):
        self.dirs = dirs
        self.version = version
        self.cpu = cpu  # the group whose CPU time is read

    @classmethod
    def create(cls, name: str, *, memory_bytes: int, max_processes: int) -> BuildCgroup | None:
        """Groups limiting memory and processes, or None where this machine has none for us."""
        try:
            parent = _v2_parent()
            if parent is not None:
                group = parent / name
                group.mkdir(exist_ok=True)
                _write(group / "memory.max", str(memory_bytes))
                with suppress(OSError):
                    _write(group / "memory.swap.max", "0")
                _write(group / "pids.max", str(max_processes))
                return cls([group], 2, cpu=group)
            parents = _v1_parents()
            if parents is not None:
                memory, pids = parents[0] / name, parents[1] / name
                memory.mkdir(exist_ok=True)
                pids.mkdir(exist_ok=True)
                _write(memory / "memory.limit_in_bytes", str(memory_bytes))
                with suppress(OSError):
                    _write(memory / "memory.memsw.limit_in_bytes", str(memory_bytes))
                _write(pids / "pids.max", str(max_processes))
                accounting = _v1_accounting(name)
                dirs = [memory, pids] + ([accounting] if accounting else [])
                return cls(dirs, 1, cpu=accounting)
        except OSError:
            log.warning("Could not create the build's cgroup %s", name, exc_info=True)
        return None

    def add(self, pid: int) -> None:
        for group in self.dirs:
            _write(group / "cgroup.procs", str(pid))

    def oom_kills(self) -> int:
        """How many processes the kernel killed for going past the memory limit."""
        if self.version == 2:
            return _read_counter(self.dirs[0] / "memory.events", "oom_kill")
        return _read_counter(self.dirs[0] / "memory.oom_control", "oom_kill")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of everything that ran in the group; None where unknown."""
        if self.cpu is None:
            return None
        with suppress(OSError, ValueError):
            if self.version == 2:
                return _read_counter(self.cpu / "cpu.stat", "usage_usec") / 1e6
            return int((self.cpu / "cpuacct.usage").read_text().strip()) / 1e9
        return None

    def memory_peak(self) -> int:
        """The most memory the group held (v2 ``memory.peak``, v1 ``max_usage_in_bytes``);
        0 where the kernel does not say."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        with suppress(OSError, ValueError):
            return int((self.dirs[0] / name).read_text().strip())
        return 0

    def pids(self) -> list[int]:
        found = set()
        for group in self.dirs:
            with suppress(OSError, ValueError):
                found.update(int(p) for p in (group / "cgroup.procs").read_text().split())
        return sorted(found)

    def kill(self) -> None:
        """SIGKILL every process still in the group."""
        if self.version == 2:
            with suppress(OSError):
                _write(self.dirs[0] / "cgroup.kill", "1")
                return
        for pid in self.pids():
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        """Kill what is left and delete the groups (a group with processes cannot go)."""
        deadline = time.monotonic() + 5
        while self.pids() and time.monotonic() < deadline:
            self.kill()
            time.sleep(0.05)
        for group in self.dirs:
            with suppress(OSError):
                group.rmdir()
