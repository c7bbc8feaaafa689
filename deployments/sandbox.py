"""The build sandbox: install and build commands run inside bubblewrap (Debian's ``bwrap``).

Each command gets its own user, PID, mount, network, IPC and UTS namespaces. Inside, it runs as
uid 1000 ("build"), mapped to an unprivileged uid outside: the panel's own user, or
``BUILD_UID`` when the panel runs as root. It sees the system's programs read-only (``/usr``
and a short list of ``/etc`` files), its checkout at ``/build/src``, a private HOME
(``/build/home``) and ``/tmp``, and its project's dependency cache (``/build/cache``) — nothing
of the panel: not its code, environment, ``var/``, database, sockets, other sites or builds.
Its ``/proc`` shows only its own processes.

Network: a fresh network namespace joined to the internet by ``slirp4netns`` with host loopback
disabled: package registries are reachable, the host's 127.0.0.1 (database, Redis, the panel)
is not, nor (``deployments.netpolicy``: unreachable routes in the namespace) the host's other
addresses, link-local (cloud metadata) and private ranges. Without slirp4netns the build has
no network at all.

Every process dies with the command: bubblewrap's init is PID 1 of the namespace, so when the
command exits (or the runner kills bubblewrap on a cancel or timeout, or the worker dies:
``--die-with-parent``) the kernel kills everything left, ``setsid`` daemons included. Limits:
processes (a cgroup where there is one, and RLIMIT_NPROC of the unprivileged uid), memory (a
cgroup where there is one, else a watchdog on the proportional set size of the namespace's
processes), CPU seconds and file size (rlimits); wall time and output size are the runner's.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import resource
import select
import shutil
import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from deployments import netpolicy
from deployments.cgroups import BuildCgroup

log = logging.getLogger(__name__)

BUILD_USER_ID = 1000  # the build's uid and gid inside its namespace
INSIDE_ROOT = Path("/build")
INSIDE_CHECKOUT = INSIDE_ROOT / "src"
INSIDE_HOME = INSIDE_ROOT / "home"
INSIDE_CACHE = INSIDE_ROOT / "cache"
# The sandbox's own temporary folders (bound to the build's folder, not the host's /tmp).
INSIDE_TMP = ("/tmp", "/var/tmp")  # noqa: S108
SLIRP_DNS = "10.0.2.3"
START_TIMEOUT = 15.0  # seconds for bubblewrap and the network to come up
WATCHDOG_INTERVAL = 0.2  # seconds between memory readings when there is no cgroup

# What builds see of /etc: libraries, certificates, time zones, MIME types. Never the rest
# (service configuration, credentials, the panel's own files).
ETC_ENTRIES = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "debian_version",
    "gai.conf",
    "host.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "protocols",
    "python3",
    "python3.11",
    "services",
    "ssl",
    "timezone",
    "xdg",
)
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


class SandboxError(Exception):
    """The sandbox could not start (a message for the build log)."""


class SandboxSetupFailed(SandboxError):
    """bubblewrap itself died while its sandbox was being set up (it very rarely does under
    load: ``loopback: Failed RTM_NEWADDR``); worth another try."""


def required() -> bool:
    """Whether builds must run sandboxed (the operator has not opted out)."""
    return settings.BUILD_SANDBOX != "none"


@functools.cache
def problem() -> str:
    """Why builds cannot be sandboxed on this machine; empty when they can."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    probe = subprocess.run(
        ["bwrap", "--unshare-all", "--die-with-parent", *_system_mounts(), "--", "true"],
        capture_output=True,
        text=True,
        timeout=30,
        **_identity_kwargs(),
    )
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:300]}"
    return ""


def network_helper() -> str:
    """The user-mode network program builds use, or empty (no network in builds)."""
    if settings.BUILD_NETWORK == "none":
        return ""
    return shutil.which("slirp4netns") or ""


def build_identity() -> tuple[int, int] | None:
    """The unprivileged uid and gid sandboxes run as when the panel runs as root."""
    if os.geteuid() != 0:
        return None
    return settings.BUILD_UID, settings.BUILD_GID


def _identity_kwargs() -> dict:
    identity = build_identity()
    if identity is None:
        return {}
    return {"user": identity[0], "group": identity[1], "extra_groups": []}


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in TOP_LEVEL:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_ENTRIES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--tmpfs", "/dev"]
    for name in DEVICES:
        args += ["--dev-bind-try", f"/dev/{name}", f"/dev/{name}"]
    args += [
        "--symlink", "/proc/self/fd", "/dev/fd",
        "--symlink", "/proc/self/fd/0", "/dev/stdin",
        "--symlink", "/proc/self/fd/1", "/dev/stdout",
        "--symlink", "/proc/self/fd/2", "/dev/stderr",
        "--tmpfs", "/dev/shm",  # noqa: S108 - the sandbox's own
    ]  # fmt: skip
    return args


@dataclass
class Workspace:
    """A build's folders on the host: what its sandbox may see and write."""

    root: Path
    checkout: Path
    home: Path
    tmp: Path
    etc: Path
    cache: Path | None = None

    @classmethod
    def create(cls, root: Path, cache: Path | None = None) -> Workspace:
        """Fresh folders under ``root`` (and the cache), owned by the build's uid."""
        for folder in (root, cache):
            if folder is not None:
                _check_reachable(folder)
        space = cls(root, root / "src", root / "home", root / "tmp", root / "etc", cache)
        for folder in (space.home, space.tmp, space.etc):
            folder.mkdir(parents=True, exist_ok=True)
        space.tmp.chmod(0o1777)
        (space.etc / "passwd").write_text(
            f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"build:x:{BUILD_USER_ID}:{BUILD_USER_ID}:build:{INSIDE_HOME}:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        )
        (space.etc / "group").write_text(f"root:x:0:\nbuild:x:{BUILD_USER_ID}:\nnogroup:x:65534:\n")
        (space.etc / "hosts").write_text("127.0.0.1 localhost build\n::1 localhost\n")
        (space.etc / "resolv.conf").write_text(f"nameserver {SLIRP_DNS}\n")
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
        space.hand_over(space.home, space.tmp)
        if cache is not None:
            space.hand_over(cache, recursive=False)
        return space

    def hand_over(self, *paths: Path, recursive: bool = True) -> None:
        """Give folders (and what they hold) to the build's uid when the panel is root."""
        identity = build_identity()
        if identity is None:
            return
        uid, gid = identity
        for path in paths:
            os.lchown(path, uid, gid)
            if not recursive or not path.is_dir() or path.is_symlink():
                continue
            for folder, dirs, files in os.walk(path):
                for name in dirs + files:
                    os.lchown(os.path.join(folder, name), uid, gid)

    def inside(self, path: Path) -> Path:
        """Where a host path under the checkout appears inside the sandbox."""
        return INSIDE_CHECKOUT / Path(path).relative_to(self.checkout)


def _check_reachable(folder: Path) -> None:
    """bubblewrap, running as the build's uid, must be able to walk to what it mounts."""
    identity = build_identity()
    if identity is None:
        return
    uid, gid = identity
    folder.mkdir(parents=True, exist_ok=True)
    for parent in [folder.resolve(), *folder.resolve().parents]:
        info = parent.stat()
        if info.st_uid == uid:
            bit = 0o100
        elif info.st_gid == gid:
            bit = 0o010
        else:
            bit = 0o001
        if not info.st_mode & bit:
            raise SandboxError(
                f"The build folder {folder} is out of reach of the build user (uid {uid}): "
                f"{parent} is not searchable (chmod o+x {parent}, or change BUILD_ROOT / "
                "BUILD_CACHE_ROOT)."
            )


def child_limits():
    """What a build's child sets between fork and exec: its resource limits, read here, in the
    worker, so the child only makes system calls. Builds run in a worker's threads, and a
    child forked beside other threads must not take a lock (Django's settings, the import
    system) that one of them held at the fork."""
    cpu = settings.BUILD_CPU_SECONDS
    size = settings.BUILD_MAX_FILE_SIZE
    procs = settings.BUILD_MAX_PROCESSES
    wanted = [
        (resource.RLIMIT_CPU, cpu, cpu + 5),
        (resource.RLIMIT_FSIZE, size, size),
        (resource.RLIMIT_NPROC, procs, procs),
        (resource.RLIMIT_CORE, 0, 0),
    ]

    def apply() -> None:  # runs in the child; never raises a limit above the worker's own
        for limit, soft, hard in wanted:
            _, current = resource.getrlimit(limit)
            top = hard if current == resource.RLIM_INFINITY else min(hard, current)
            resource.setrlimit(limit, (min(soft, top), top))

    return apply


def _read_json(fd: int, timeout: float) -> dict:
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        with suppress(ValueError):
            return json.loads(data)
    return {}


def namespace_pids(pidns: int) -> list[int]:
    """Host pids of the processes in a PID namespace (by its inode)."""
    wanted = f"pid:[{pidns}]"
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            if os.readlink(f"/proc/{entry.name}/ns/pid") == wanted:
                found.append(int(entry.name))
    return found


def _proportional_size(pid: int) -> int:
    """A process's share of the memory it touches (PSS), in bytes; RSS where PSS is hidden."""
    with suppress(OSError, ValueError), open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    with suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return 0


def _cpu_time(pid: int) -> float:
    """Seconds of CPU a process used, with that of the children it reaped (``/proc/<pid>/stat``
    utime + stime + cutime + cstime)."""
    with suppress(OSError, ValueError, IndexError), open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
        return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return 0.0


class SandboxedProcess:
    """One command in a fresh sandbox: start it, watch its memory, kill it, clean up."""

    def __init__(self, argv: list[str], *, workspace: Workspace, env: dict, cwd: Path, name: str):
        self.argv = argv
        self.workspace = workspace
        self.env = env
        self.cwd = cwd
        self.name = name
        self.proc: subprocess.Popen | None = None
        self.cgroup: BuildCgroup | None = None
        self.network: subprocess.Popen | None = None
        self.pidns = 0
        self.memory_limit = settings.BUILD_MEMORY_MB * 1024 * 1024
        self.over_memory = False
        self.memory_peak = 0  # bytes: the cgroup's own figure, else the watchdog's highest
        self.cpu_seconds = 0.0  # the cgroup's own figure, else the watchdog's last reading
        self._next_reading = 0.0
        self._fds: list[int] = []
        self._namespaces: dict[str, int] = {}  # open namespace files of the sandbox

    # --- starting -----------------------------------------------------------------------
    def start(self) -> subprocess.Popen:
        """Start the command; it runs once its cgroup and network are in place."""
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        argv = self._bwrap_argv(info_w, block_r)
        try:
            self.proc = subprocess.Popen(
                argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(info_w, block_r, *self._fds),
                preexec_fn=child_limits(),
                **_identity_kwargs(),
            )
        finally:
            for fd in (info_w, block_r, *self._fds):
                os.close(fd)
            self._fds = []
        try:
            info = _read_json(info_r, START_TIMEOUT)
            if not info:
                self.proc.kill()
                _, err = self.proc.communicate(timeout=5)
                raise SandboxError(
                    "The build sandbox did not start: "
                    + (err.decode(errors="replace").strip()[:500] or "no reason given")
                )
            child = int(info["child-pid"])
            self._hold_namespaces(child, int(info["pid-namespace"]))
            self.cgroup = BuildCgroup.create(
                self.name,
                memory_bytes=self.memory_limit,
                max_processes=settings.BUILD_MAX_PROCESSES,
            )
            if self.cgroup is not None:
                self.cgroup.add(self.proc.pid)
                self.cgroup.add(child)
            if network_helper():
                self._restrict_network(netpolicy.blocked_routes(), wait_for_loopback=True)
                self._attach_network(child)
                allowed = netpolicy.allowed_routes()
                if allowed:
                    self._restrict_network(allowed)
            os.write(block_w, b"go")
        except OSError as exc:  # bubblewrap died while being set up
            self.kill()
            self.close()
            _, err = self.proc.communicate(timeout=5)
            reason = err.decode(errors="replace").strip()[:500] or str(exc)
            raise SandboxSetupFailed(f"The build sandbox did not start: {reason}") from exc
        except BaseException:
            self.kill()
            self.close()
            raise
        finally:
            os.close(info_r)
            os.close(block_w)
        return self.proc

    def _hold_namespaces(self, child: int, pidns: int) -> None:
        """Keep the sandbox's namespaces open while it runs. A namespace's inode number is
        reused as soon as the namespace ends; holding it open means the processes found by
        ``namespace_pids`` (to kill, to weigh) can only ever be this sandbox's, never those of
        a build that started later, and the network is set up in this sandbox's namespace."""
        for name in ("pid", "net", "user"):
            try:
                self._namespaces[name] = os.open(
                    f"/proc/{child}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC
                )
            except OSError:
                self._raise_if_died()
                raise SandboxSetupFailed("The build sandbox ended before it started.") from None
        if os.fstat(self._namespaces["pid"]).st_ino != pidns:
            raise SandboxSetupFailed("The build sandbox ended before it started.")
        self.pidns = pidns

    def _bind_fd(self, path: Path, target: Path, *, writable: bool) -> list[str]:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        self._fds.append(fd)
        return ["--bind-fd" if writable else "--ro-bind-fd", str(fd), str(target)]

    def _bwrap_argv(self, info_fd: int, block_fd: int) -> list[str]:
        space = self.workspace
        args = [
            "bwrap",
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--unshare-net",
            "--uid", str(BUILD_USER_ID),
            "--gid", str(BUILD_USER_ID),
            "--hostname", "build",
            "--die-with-parent",
            "--new-session",
            *_system_mounts(),
        ]  # fmt: skip
        for name in ("passwd", "group", "hosts", "resolv.conf"):
            args += self._bind_fd(space.etc / name, Path("/etc") / name, writable=False)
        args += self._bind_fd(space.checkout, INSIDE_CHECKOUT, writable=True)
        args += self._bind_fd(space.home, INSIDE_HOME, writable=True)
        for tmp in INSIDE_TMP:
            args += self._bind_fd(space.tmp, Path(tmp), writable=True)
        if space.cache is not None:
            args += self._bind_fd(space.cache, INSIDE_CACHE, writable=True)
        args += [
            "--remount-ro", "/",
            "--chdir", str(space.inside(self.cwd)),
            "--info-fd", str(info_fd),
            "--block-fd", str(block_fd),
            "--",
            *self.argv,
        ]  # fmt: skip
        return args

    def _attach_network(self, child: int) -> None:
        ready_r, ready_w = os.pipe()
        argv = [
            network_helper(),
            "--configure",
            "--mtu=65520",
            "--disable-host-loopback",
            "--ready-fd", str(ready_w),
        ]  # fmt: skip
        kwargs: dict = {}
        if os.geteuid() == 0:
            # As root it may join any namespace; it then drops its capabilities.
            argv += ["--enable-sandbox", "--enable-seccomp"]
        else:
            argv += [f"--userns-path=/proc/{child}/ns/user"]
        argv += [str(child), "tap0"]
        try:
            self.network = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(ready_w,),
                start_new_session=True,
                **kwargs,
            )
        finally:
            os.close(ready_w)
        try:
            ready, _, _ = select.select([ready_r], [], [], START_TIMEOUT)
            if not ready or os.read(ready_r, 1) != b"1":
                self.network.kill()
                self.network.wait()
                self._raise_if_died()
                _, err = self.network.communicate(timeout=5)
                raise SandboxError(
                    "The build's network (slirp4netns) did not start: "
                    + (err.decode(errors="replace").strip()[-300:] or "no reason given")
                )
        finally:
            os.close(ready_r)

    def _restrict_network(self, routes: list, *, wait_for_loopback: bool = False) -> None:
        """Routes in the sandbox's network namespace (deployments/netpolicy.py)."""
        try:
            netpolicy.apply(
                routes,
                net=self._namespaces["net"],
                user=self._namespaces["user"] if os.geteuid() != 0 else None,
                wait_for_loopback=wait_for_loopback,
            )
        except (netpolicy.PolicyError, OSError) as exc:
            self._raise_if_died()
            raise SandboxError(
                f"The build's network policy could not be set (so the build does not run): {exc}"
            ) from exc

    def _raise_if_died(self) -> None:
        if self.proc is None or self.proc.poll() is None:
            return
        _, err = self.proc.communicate(timeout=5)
        reason = err.decode(errors="replace").strip()[:500] or f"exit code {self.proc.returncode}"
        raise SandboxSetupFailed(f"The build sandbox did not start: {reason}")

    # --- while it runs ------------------------------------------------------------------
    def watch_memory(self) -> bool:
        """Without a cgroup: kill the sandbox when its processes' PSS passes the limit.
        Returns True once the limit has been passed."""
        if self.over_memory or self.cgroup is not None or not self.pidns:
            return self.over_memory  # with a cgroup, the kernel enforces the limit
        now = time.monotonic()
        if now < self._next_reading:
            return False
        self._next_reading = now + WATCHDOG_INTERVAL
        pids = namespace_pids(self.pidns)
        used = sum(_proportional_size(pid) for pid in pids)
        self.memory_peak = max(self.memory_peak, used)
        # Without a group, CPU time is read as the memory is: at each reading (the namespace's
        # init counts what it reaped), so the last moments of a command may be missed.
        self.cpu_seconds = max(self.cpu_seconds, sum(_cpu_time(pid) for pid in pids))
        if used > self.memory_limit:
            self.over_memory = True
            self.kill()
        return self.over_memory

    @property
    def out_of_memory(self) -> bool:
        return self.over_memory or bool(self.cgroup and self.cgroup.oom_kills())

    # --- ending -------------------------------------------------------------------------
    def kill(self) -> None:
        """SIGKILL bubblewrap and everything in the sandbox."""
        if self.proc is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.cgroup is not None:
            self.cgroup.kill()
        if self.pidns:
            for pid in namespace_pids(self.pidns):
                with suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """After the command: nothing of it may keep running."""
        self.kill()
        if self.proc is not None:
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        if self.network is not None:
            self.network.kill()
            self.network.wait()
            if self.network.stderr:
                self.network.stderr.close()
        if self.cgroup is not None:
            self.over_memory = self.over_memory or self.cgroup.oom_kills() > 0
            self.memory_peak = max(self.memory_peak, self.cgroup.memory_peak())
            self.cpu_seconds = self.cgroup.cpu_seconds() or self.cpu_seconds
            self.cgroup.remove()
            self.cgroup = None
        for fd in [*self._fds, *self._namespaces.values()]:
            with suppress(OSError):
                os.close(fd)
        self._fds, self._namespaces, self.pidns = [], {}, 0
