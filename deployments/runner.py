"""The build runner: clone, install, build and publish one claimed deployment.

Git clones outside the sandbox, with git's own protections (deployments/git.py). The install
and build commands run inside the build sandbox (deployments/sandbox.py) with a clean
environment (the project's variables plus PATH, HOME, LANG and the cache locations, never the
worker's). While a command runs the runner reads its output, stores log lines in batches,
writes a heartbeat, watches memory, and polls the row: a cancelled status or the wall timeout
kills the sandbox, and with it every process the command started.

A database restart does not stop a build: every write the builder makes is retried once the
database is back (deployments/outages.py) and log lines wait in memory meanwhile. A database
away longer than BUILD_DATABASE_PATIENCE stops the build with a reason naming the database.
"""

from __future__ import annotations

import logging
import os
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from deployments import (
    builds,
    connections,
    dependency_cache,
    frameworks,
    projects,
    remotes,
    sandbox,
    services,
)
from deployments.dependency_cache import DependencyStep
from deployments.logs import OUTAGE_RETRY, QUIET_FLUSH_INTERVAL, LogWriter
from deployments.models import Deployment, LogLine
from deployments.outages import (
    DATABASE_ERRORS,
    FINAL_PATIENCE_FACTOR,
    DatabaseAway,
    Outage,
    reconnect,
    retry,
)
from deployments.previews import PULL_PREFIX
from deployments.sandbox import SandboxedProcess, SandboxError, SandboxSetupFailed, Workspace
from hosting.files.errors import StorageFull
from hosting.files.whole import disk_full

log = logging.getLogger(__name__)


CANCEL_POLL = 0.5  # seconds between looks at the row for a cancel
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
PIPE_GRACE = 2.0  # seconds to drain pipes held open by leftover children after the exit
SANDBOX_ATTEMPTS = 3  # bubblewrap's setup rarely fails under load (loopback: RTM_NEWADDR)
NO_SANDBOX = "builds are disabled: no sandbox; see docs/builds.md"
NO_SPACE = "No space left on device"
DISK_FULL = (
    "the build server's disk is full (No space left on device). The build's files were "
    "removed; free space on the server (or ask its operator), then redeploy."
)
LOW_SPACE = 1024 * 1024  # bytes free under which a failed command is put down to a full disk
TOOL_VERSIONS = (
    'printf "Tools: node %s, npm %s, %s\\n" "$(node --version 2>/dev/null || echo none)" '
    '"$(npm --version 2>/dev/null || echo none)" '
    '"$(python3 --version 2>/dev/null || echo "Python none")"'
)


class BuildFailed(Exception):
    """A user-facing reason the build failed."""


class BuildCancelled(Exception):
    pass


def kill_group(pgid: int) -> None:
    """SIGTERM the whole process group, then SIGKILL whatever is left."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + KILL_GRACE
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


class Runner:
    """Runs the commands of one build, watching the clock, the row and the output."""

    def __init__(self, deployment: Deployment, writer: LogWriter, deadline: float):
        self.deployment = deployment
        self.writer = writer
        self.outage = writer.outage
        self.deadline = deadline
        self.next_cancel_check = 0.0
        self.next_heartbeat = 0.0
        self.commands = 0
        self.first_line = ""  # of the running command, to tell bubblewrap's own errors
        self.last_error = ""  # git's "fatal: ..." line, the reason a clone failed
        self.disk_full = False  # the command said "No space left on device"
        self.cpu_seconds = 0.0  # user + system time of the build's commands
        self.memory_peak = 0  # bytes: the largest of the commands' peaks
        self._usage: resource.struct_rusage | None = None  # of the running command, once reaped

    def tick(self, pgid: int | None = None, process: SandboxedProcess | None = None) -> None:
        now = time.monotonic()
        if now >= self.deadline:
            self._stop(pgid, process)
            raise BuildFailed(
                f"The build took longer than {settings.BUILD_TIMEOUT} seconds (BUILD_TIMEOUT) "
                "and was stopped."
            )
        if process is not None and process.watch_memory():
            return  # killed; the exit is explained by run()
        if now >= self.next_cancel_check:
            # DatabaseAway goes up through run(), which stops the command on its way.
            ok, status = self.outage.attempt(self._status)
            self.next_cancel_check = now + (CANCEL_POLL if ok else OUTAGE_RETRY)
            if ok and status != Deployment.Status.BUILDING:
                self._stop(pgid, process)
                raise BuildCancelled()
        if now >= self.next_heartbeat:
            ok, _ = self.outage.attempt(self._beat)
            self.next_heartbeat = now + (settings.BUILD_HEARTBEAT_INTERVAL if ok else OUTAGE_RETRY)
        self.writer.maybe_flush()

    def _status(self) -> str | None:
        return (
            Deployment.objects.filter(pk=self.deployment.pk)
            .values_list("status", flat=True)
            .first()
        )

    def _beat(self) -> None:
        Deployment.objects.filter(pk=self.deployment.pk).update(heartbeat_at=timezone.now())

    @staticmethod
    def _stop(pgid: int | None, process: SandboxedProcess | None) -> None:
        if process is not None:
            process.kill()
        elif pgid:
            kill_group(pgid)

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict,
        label: str,
        workspace: Workspace | None = None,
    ) -> None:
        """Run one command to completion, logging its output; raise BuildFailed on failure.

        With a workspace the command runs in a fresh sandbox over it; without, as a process
        group of the worker's user (git, and builds where the operator opted out). A sandbox
        whose setup failed before the command started (bubblewrap's own error, exit code 1)
        is tried again."""
        for attempt in range(1, SANDBOX_ATTEMPTS + 1):
            try:
                returncode, process = self._run_once(argv, cwd=cwd, env=env, workspace=workspace)
            except SandboxSetupFailed as exc:
                if attempt == SANDBOX_ATTEMPTS:
                    raise BuildFailed(str(exc)) from exc
                self.writer.write(
                    "The build sandbox did not start; trying again.", level=LogLine.Level.WARNING
                )
                continue
            setup_failed = (
                process is not None
                and returncode == 1
                and self.first_line.startswith("bwrap: ")
                and not process.out_of_memory
            )
            if not setup_failed or attempt == SANDBOX_ATTEMPTS:
                break
            self.writer.write(
                "The build sandbox did not start; trying again.", level=LogLine.Level.WARNING
            )
        self._explain(returncode, label, process)

    def _run_once(
        self, argv: list[str], *, cwd: Path, env: dict, workspace: Workspace | None
    ) -> tuple[int, SandboxedProcess | None]:
        self.tick()
        self.first_line = ""
        self.last_error = ""
        self._usage = None
        process = None
        if workspace is not None:
            name = f"build-{self.deployment.pk}-{self.commands}"
            process = SandboxedProcess(argv, workspace=workspace, env=env, cwd=cwd, name=name)
            try:
                proc = process.start()
            except SandboxSetupFailed:
                raise
            except SandboxError as exc:
                raise BuildFailed(str(exc)) from exc
        else:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=sandbox.child_limits(),
            )
        self.commands += 1
        pgid = proc.pid
        try:
            retry(
                lambda: Deployment.objects.filter(pk=self.deployment.pk).update(build_pgid=pgid),
                what="the build's process group",
            )
            self._pump(proc, pgid, process)
        finally:
            # Whatever the command left running goes too.
            if process is not None:
                process.kill()
            else:
                with suppress(ProcessLookupError):
                    os.killpg(pgid, signal.SIGKILL)
            self._reap(proc, wait=10)
            if process is not None:
                process.close()
            proc.wait()
            self._account(process)
            self.writer.flush()
        return proc.returncode, process

    def _reap(self, proc: subprocess.Popen, *, wait: float = 0) -> bool:
        """Collect the command's exit (True once it has ended) with its own resource usage.
        A worker runs several builds in its threads, so what the process reaped overall
        (RUSAGE_CHILDREN) would mix them: wait4 gives this command's alone (its process and
        the descendants it waited for)."""
        deadline = time.monotonic() + wait
        while proc.returncode is None:
            try:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (Popen): no usage to add
                return proc.poll() is not None
            if pid:
                break
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        else:
            return True
        proc.returncode = os.waitstatus_to_exitcode(status)
        self._usage = usage
        return True

    def _account(self, process: SandboxedProcess | None) -> None:
        """Add the command's CPU time and peak memory to the build's: a sandbox measures its
        own (bubblewrap does not pass its children's times on); a plain command's come from
        its own exit (``_reap``)."""
        usage = self._usage
        if process is not None:
            self.cpu_seconds += process.cpu_seconds
        elif usage is not None:
            self.cpu_seconds += max(usage.ru_utime + usage.ru_stime, 0.0)
        peak = process.memory_peak if process is not None else 0
        if not peak and usage is not None:
            peak = usage.ru_maxrss * 1024  # its largest process (KiB)
        self.memory_peak = max(self.memory_peak, peak)

    def usage(self) -> dict:
        """The build's resource record (``Deployment.build_cpu_seconds`` and ``_memory_peak``)."""
        return {
            "build_cpu_seconds": round(self.cpu_seconds, 2) if self.commands else None,
            "build_memory_peak": self.memory_peak or None,
        }

    def _explain(self, returncode: int, label: str, process: SandboxedProcess | None) -> None:
        if process is not None and process.out_of_memory:
            raise BuildFailed(
                f"{label} failed: out of memory (limit {settings.BUILD_MEMORY_MB} MB, "
                "BUILD_MEMORY_MB)."
            )
        if returncode == 0:
            return
        if self.disk_full or _disk_nearly_full(Path(settings.BUILD_ROOT)):
            raise BuildFailed(f"{label} failed: {DISK_FULL}")
        # bubblewrap reports a command killed by a signal as 128 + the signal.
        signum = -returncode if returncode < 0 else returncode - 128 if process else 0
        if signum in signal.valid_signals():
            sig = signal.Signals(signum)
            why = {
                signal.SIGXCPU: "it used more CPU time than allowed (BUILD_CPU_SECONDS)",
                signal.SIGXFSZ: "it wrote a file larger than allowed (BUILD_MAX_FILE_SIZE_MB)",
                signal.SIGKILL: "it was killed",
            }.get(sig, f"it was stopped by {sig.name}")
            raise BuildFailed(f"{label} failed: {why}.")
        reason = f": {self.last_error}" if self.last_error else ""
        raise BuildFailed(f"{label} failed with exit code {returncode}{reason}.")

    def _pump(self, proc: subprocess.Popen, pgid: int, process: SandboxedProcess | None) -> None:
        sel = selectors.DefaultSelector()
        partial = {}
        for stream, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
            os.set_blocking(stream.fileno(), False)
            sel.register(stream, selectors.EVENT_READ, name)
            partial[name] = b""
        exited_at = None
        while sel.get_map():
            for key, _ in sel.select(timeout=QUIET_FLUSH_INTERVAL):
                name = key.data
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fileobj)
                    if partial[name]:
                        self._lines(partial[name], name)
                        partial[name] = b""
                    continue
                data = partial[name] + chunk
                end = data.rfind(b"\n")
                if end < 0:
                    partial[name] = data
                    continue
                partial[name] = data[end + 1 :]
                self._lines(data[:end], name)
            self.tick(pgid, process)
            if exited_at is None and self._reap(proc):
                exited_at = time.monotonic()
            if exited_at is not None and time.monotonic() - exited_at > PIPE_GRACE:
                break  # a background child holds the pipes open; it is killed by the caller
        sel.close()
        for name, rest in partial.items():
            if rest:
                self._lines(rest, name)

    def _lines(self, raw: bytes, stream: str) -> None:
        """The complete lines of one read (``raw`` without its last line end), handled together:
        one decode, one split, and the checks made on the whole text first."""
        text = raw.decode("utf-8", errors="replace")
        lines = text.split("\n")
        if "\r" in text:  # progress bars redraw a line: keep what was shown last
            lines = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines]
        if not self.first_line:
            self.first_line = lines[0] or " "
        if NO_SPACE in text:
            self.disk_full = True
        if stream == "stderr" and ("fatal: " in text or "error: " in text):
            for line in lines:
                if line.startswith(("fatal: ", "error: ")):
                    self.last_error = remotes.git_reason(line)
        self.writer.write_lines(lines, stream=stream)


def build_env(project_env: dict, home: Path, *, sandboxed: bool = True) -> dict:
    """The environment of install and build commands: the project's variables plus ours."""
    env = {str(k): str(v) for k, v in project_env.items()}
    env.update(PATH=settings.BUILD_PATH, HOME=str(home), LANG="C.UTF-8")
    if sandboxed:
        cache = sandbox.INSIDE_CACHE
        env.update(
            USER="build",
            TMPDIR=sandbox.INSIDE_TMP[0],
            npm_config_cache=str(cache / "npm"),
            npm_config_update_notifier="false",
            npm_config_fund="false",
            npm_config_audit="false",
            PIP_CACHE_DIR=str(cache / "pip"),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            XDG_CACHE_HOME=str(cache / "xdg"),
        )
    return env


def git_env(home: Path, token: str = "") -> dict:
    """The clone's environment: the same protected git as the deploy wizard's look-ups."""
    return remotes.git_env(home, token)


def output_directory(checkout: Path, output_dir: str) -> Path:
    """The output directory inside the checkout, or a clear BuildFailed."""
    root = checkout.resolve()
    rel = (output_dir or ".").strip() or "."
    if Path(rel).is_absolute():
        raise BuildFailed(f"The output directory “{rel}” must be relative to the repository.")
    out = (root / rel).resolve()
    if out != root and root not in out.parents:
        raise BuildFailed(f"The output directory “{rel}” is outside the repository.")
    if not out.is_dir():
        raise BuildFailed(
            f"The output directory “{rel}” does not exist after the build. Check that the "
            "build command writes there, or change the output directory."
        )
    if out == root:
        shutil.rmtree(out / ".git", ignore_errors=True)  # publishing the repository itself
    total = 0
    for path in out.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            if total > settings.MAX_BUILD_SIZE:
                raise BuildFailed(
                    f"The output is larger than {settings.MAX_BUILD_SIZE // (1024 * 1024)} MB "
                    "(MAX_BUILD_SIZE)."
                )
    return out


def run_build(deployment_id) -> Deployment:
    """Build a deployment this worker has claimed (status building) to its final state."""
    deployment = retry(
        lambda: Deployment.objects.select_related("project", "site", "author").get(
            pk=deployment_id
        ),
        what="reading the deployment",
    )
    project = deployment.project
    workdir = Path(settings.BUILD_ROOT) / str(deployment.pk)
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "home").mkdir(parents=True)
    workdir.chmod(0o711)
    retry(
        lambda: Deployment.objects.filter(pk=deployment.pk).update(
            build_dir=str(workdir), worker=f"{socket.gethostname()}:{os.getpid()}"
        ),
        what="the build's folder",
    )
    project_env = retry(
        lambda: (
            {}
            if deployment.from_fork  # someone else's code: no secrets at all
            else projects.project_env(project, preview=bool(deployment.preview))
        ),
        what="the project's variables",
    )
    writer = retry(
        lambda: LogWriter(deployment.pk, secrets=project_env.values(), outage=Outage()),
        what="the log's last line",
    )
    runner = Runner(deployment, writer, time.monotonic() + settings.BUILD_TIMEOUT)
    started = time.monotonic()
    outcome, error = Deployment.Status.FAILED, ""
    try:
        workspace = _workspace(workdir, project, writer)
        out = _steps(deployment, project, runner, writer, workspace, project_env)
        retry(deployment.refresh_from_db, what="reading the deployment")
        return _publish(deployment, out, writer, round(time.monotonic() - started), runner)
    except BuildCancelled:
        outcome = Deployment.Status.CANCELLED
    except (BuildFailed, DatabaseAway) as exc:
        error = str(exc)
    except DATABASE_ERRORS as exc:  # a database error outside the retried writes
        log.exception("Build of %s lost the database", deployment.pk)
        error = (
            f"The build stopped: the connection to the database ({connection.display_name}) "
            f"failed ({exc.__class__.__name__}). Redeploy to try again."
        )
    except Exception as exc:  # the row must end in a final state whatever happens
        log.exception("Build of %s crashed", deployment.pk)
        if disk_full(exc):
            error = f"The build stopped: {DISK_FULL}"
        else:
            error = f"The build stopped on an internal error ({exc.__class__.__name__})."
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    duration = round(time.monotonic() - started)
    return _record_end(writer, deployment.pk, outcome, error, duration, runner.usage())


def _record_end(
    writer: LogWriter, deployment_id, outcome: str, error: str, duration: int, usage: dict
):
    """The reason as the log's last line, then the final status: both waited for longer than
    a build step waits, since a build left "building" is worse than a slow end."""
    patience = settings.BUILD_DATABASE_PATIENCE * FINAL_PATIENCE_FACTOR
    writer.outage = Outage(patience)  # lines written now wait in memory, whatever came before
    if outcome == Deployment.Status.CANCELLED:
        writer.write("Deployment cancelled; the build was stopped.", level=LogLine.Level.WARNING)
    else:
        writer.write(error, level=LogLine.Level.ERROR)
    retry(writer.store, patience=patience, what="the log's last lines")
    return retry(
        lambda: builds.build_finish(
            deployment_id=deployment_id,
            status=outcome,
            error=error,
            build_duration=duration,
            usage=usage,
        ),
        patience=patience,
        what="the build's final status",
    )


def _workspace(workdir: Path, project, writer: LogWriter) -> Workspace | None:
    """The sandbox's folders, None when the operator opted out; refuses without a sandbox."""
    if not sandbox.required():
        writer.write(
            "Warning: builds run without a sandbox on this server (BUILD_SANDBOX=none).",
            level=LogLine.Level.WARNING,
        )
        return None
    problem = sandbox.problem()
    if problem:
        writer.write(f"The build sandbox is unavailable: {problem}.", level=LogLine.Level.ERROR)
        raise BuildFailed(NO_SANDBOX[0].upper() + NO_SANDBOX[1:] + ".")
    try:
        return Workspace.create(workdir, cache=dependency_cache.tools_folder(project.pk))
    except SandboxError as exc:
        raise BuildFailed(str(exc)) from exc


def _steps(deployment, project, runner, writer, workspace, project_env) -> Path:
    info = LogLine.Level.INFO
    checkout, home = workspace_paths(runner, workspace)
    token = retry(lambda: connections.github_token_for(project), what="the GitHub token")
    clone_env = git_env(home, token)
    # A redeploy, or a pull request (its head commit, fetched from the base repository,
    # which also serves the commits of pull requests from forks).
    pinned = deployment.redeploy_of_id or deployment.preview.startswith(PULL_PREFIX)
    wanted = deployment.commit_hash if pinned else ""
    if wanted:
        _checkout_commit(deployment, project, runner, writer, checkout, clone_env, wanted)
    else:
        _clone_branch(deployment, project, runner, writer, checkout, clone_env)
    commit_hash, author, message = _git_output(
        checkout, clone_env, "log", "-1", "--format=%H%x00%an%x00%s"
    ).split("\x00", 2)
    retry(
        lambda: Deployment.objects.filter(pk=deployment.pk).update(
            commit_hash=commit_hash, commit_author=author[:255], commit_message=message
        ),
        what="the commit",
    )
    writer.write(f"Commit {commit_hash[:7]} by {author}: {message}", level=info)

    detected = frameworks.detect_directory(checkout)
    install = project.install_command.strip() or detected.install_command
    build_command = project.build_command.strip() or detected.build_command
    output_dir = project.output_dir.strip() or detected.output_dir
    if detected.framework and not (
        project.install_command.strip() and project.build_command.strip() and project.output_dir
    ):
        writer.write(f"Detected {detected.framework}.", level=info)
    if detected.note:
        writer.write(detected.note, level=LogLine.Level.WARNING)
    if workspace is not None:
        workspace.hand_over(checkout)
    sandboxed = workspace is not None
    env = build_env(project_env, sandbox.INSIDE_HOME if sandboxed else home, sandboxed=sandboxed)
    inside = sandbox.INSIDE_CHECKOUT if sandboxed else checkout
    step = {"cwd": checkout, "env": env, "workspace": workspace}
    runner.run(["/bin/sh", "-c", TOOL_VERSIONS], label="Reading tool versions", **step)
    cached = DependencyStep(project.pk, checkout, home, writer)
    cached.decide(install, tools=runner.first_line)
    if install and cached.restore():
        pass  # the install is skipped: its result is back in the checkout
    elif install:
        writer.write(f"Installing dependencies: {install}", level=info)
        if ".venv/bin" in install:
            env["PATH"] = f"{inside / '.venv' / 'bin'}:{env['PATH']}"
        with cached.watching_install():
            runner.run(["/bin/sh", "-c", install], label="Installing", **step)
    else:
        writer.write("No install step (no lockfile or requirements.txt found).", level=info)
    if build_command:
        writer.write(f"Building: {build_command}", level=info)
        runner.run(["/bin/sh", "-c", build_command], label="The build", **step)
    else:
        writer.write("No build command; publishing the output directory as it is.", level=info)
    out = output_directory(checkout, output_dir)
    cached.save(out)
    runner.tick()

    if not retry(lambda: _to_deploying(deployment.pk), what="the deploying status"):
        raise BuildCancelled()
    writer.write(f"Deploying {output_dir}…", level=info)
    writer.flush()
    return out


def _to_deploying(deployment_id) -> bool:
    """Building -> deploying; also true when a cut-off earlier attempt already moved it."""
    return (
        builds.build_status_move(
            deployment_id=deployment_id,
            from_status=Deployment.Status.BUILDING,
            to_status=Deployment.Status.DEPLOYING,
        )
        or Deployment.objects.filter(pk=deployment_id, status=Deployment.Status.DEPLOYING).exists()
    )


def _clone_branch(deployment, project, runner, writer, checkout: Path, env: dict) -> None:
    writer.write(f"Cloning {project.repository} (branch {deployment.branch})…", level="info")
    runner.run(
        [
            "git",
            "clone",
            "--depth",
            "1",
            "--branch",
            deployment.branch,
            "--single-branch",
            "--no-tags",
            "--",
            project.clone_url,
            checkout.name,
        ],
        cwd=checkout.parent,
        env=env,
        label="Cloning the repository",
    )


def _checkout_commit(deployment, project, runner, writer, checkout, env, wanted: str) -> None:
    """A redeploy: fetch its commit by hash, so it builds even when its branch was deleted or
    has moved on. Servers that refuse a fetch by hash get the branch cloned instead (which
    must still point at the commit); a commit the repository no longer has is a clear error."""
    short = wanted[:7]
    writer.write(f"Fetching commit {short} of {project.repository}…", level="info")
    checkout.mkdir(parents=True, exist_ok=True)
    fetch = ["git", "fetch", "--depth", "1", "--no-tags", "--no-recurse-submodules"]
    try:
        init = ["git", "init", "--quiet", "--initial-branch=build"]
        runner.run(init, cwd=checkout, env=env, label="Preparing the clone")
        runner.run(
            [*fetch, "--", project.clone_url, wanted],
            cwd=checkout,
            env=env,
            label=f"Fetching commit {short}",
        )
    except BuildFailed:
        fetch_error = runner.last_error or "the server refused it"
    else:
        runner.run(
            ["git", "checkout", "--quiet", "--detach", "FETCH_HEAD"],
            cwd=checkout,
            env=env,
            label="Checking out the commit",
        )
        return
    gone = (
        f"Commit {short} can no longer be fetched from {project.repository} ({fetch_error}), "
        "so it cannot be rebuilt: it was deleted from the repository (its branch removed or its "
        "history rewritten). “Deploy latest” builds the repository as it is now (the head of "
        f"{project.branch})."
    )
    writer.write(
        f"Fetching commit {short} failed ({fetch_error}); cloning {deployment.branch} instead.",
        level=LogLine.Level.WARNING,
    )
    shutil.rmtree(checkout)
    try:
        _clone_branch(deployment, project, runner, writer, checkout, env)
    except BuildFailed:
        raise BuildFailed(gone) from None
    if _git_output(checkout, env, "rev-parse", "HEAD") != wanted:
        raise BuildFailed(gone)


def workspace_paths(runner, workspace: Workspace | None) -> tuple[Path, Path]:
    """The checkout and HOME folders on the host (a sandbox's, or plain ones without)."""
    if workspace is not None:
        return workspace.checkout, workspace.home
    workdir = Path(settings.BUILD_ROOT) / str(runner.deployment.pk)
    return workdir / "src", workdir / "home"


@contextmanager
def heartbeats(deployment_id):
    """Heartbeats from a thread while the builder is busy outside its output loop (publishing
    a large site to object storage can take longer than the reaper's patience)."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(settings.BUILD_HEARTBEAT_INTERVAL):
                try:
                    Deployment.objects.filter(pk=deployment_id).update(heartbeat_at=timezone.now())
                except DATABASE_ERRORS:
                    reconnect()  # the database restarted: beat again on a new connection
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{deployment_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _publish(
    deployment, out: Path, writer: LogWriter, build_duration: int, runner: Runner
) -> Deployment:
    """Store the blobs first (the long part, outside any transaction), then publish and finish
    in one short transaction: the success status, the last log lines and the stages become
    visible together (a client seeing "success" has every line). The second pass only hashes:
    every blob and the manifest exist by then."""
    try:
        with heartbeats(deployment.pk):
            _, stored = retry(
                lambda: services.manifest_create(services.directory_files(out)),
                what="storing the files",
            )
        retry(writer.store, what="the log")

        def publish() -> Deployment:
            with writer.rewind_on_error(), transaction.atomic():
                published = services.deployment_publish(
                    site=deployment.site,
                    files=services.directory_files(out),
                    source=Deployment.Source.GIT,
                    author=deployment.author,
                    deployment=deployment,
                    activate=not deployment.preview,
                )
                files = published.publish_stats.files
                where = (
                    f"Preview at {deployment.preview_url} (production unchanged)"
                    if deployment.preview
                    else f"Live at {deployment.site.url}"
                    if published.went_live
                    else "Not made live: a newer release (a rollback or a later deploy) is "
                    "live; promote this one from the site's deployments to serve it"
                )
                writer.write(
                    f"Published {files} file{'' if files == 1 else 's'} "
                    f"({stored.blobs_written} new to the blob store). {where}",
                    level=LogLine.Level.INFO,
                )
                writer.store()
                if deployment.preview:  # its address now serves this build
                    from hosting.hostnames import hostnames_changed

                    site_id = deployment.site_id
                    transaction.on_commit(
                        lambda: hostnames_changed.send(sender=Deployment, site_id=site_id)
                    )
                return builds.build_finish(
                    deployment_id=deployment.pk,
                    status=Deployment.Status.SUCCESS,
                    build_duration=build_duration,
                    usage=runner.usage(),
                )

        # A transaction cut by a restart was rolled back whole: publishing again is safe.
        return retry(publish, what="publishing")
    except ValidationError as exc:
        raise BuildFailed(" ".join(exc.messages)) from exc
    except StorageFull as exc:
        raise BuildFailed(f"Publishing failed: {exc.message}") from exc


def _disk_nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path).free < LOW_SPACE
    except OSError:
        return False


def _git_output(checkout: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise BuildFailed(f"git {args[0]} failed: {result.stderr.strip()[:300]}")
    return result.stdout.strip()
