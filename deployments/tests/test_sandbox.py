"""A build is someone else's code: what it tries as an attacker fails inside the sandbox.

Each test builds a real git repository through the build runner (clone, sandboxed install and
build, publish) in this process, with a build script doing what an attacker would: read the
panel's environment and files, reach its database, Redis and port, write outside its checkout,
leave processes behind, fork or allocate without end.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from deployments import builds, netpolicy, runner, sandbox
from deployments.models import Deployment, LogLine
from deployments.tests.conftest import wait_for
from deployments.tests.factories import make_repo
from deployments.tests.test_pipeline import alive, processes_running, sleep_marker

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def build(user, tmp_path, script: str) -> Deployment:
    """Build a repository whose build.sh is ``script``; returns the finished deployment."""
    repo = make_repo(tmp_path / f"repo-{os.urandom(3).hex()}", {"build.sh": script})
    deployment = builds.deployment_create(
        user=user,
        repository=str(repo),
        branch="main",
        build_command="./build.sh",
        output_dir="dist",
    )
    assert builds.build_claim(deployment_id=deployment.pk) == "claimed"
    return runner.run_build(deployment.pk)


def log_of(deployment) -> str:
    return "\n".join(
        LogLine.objects.filter(deployment=deployment)
        .order_by("seq")
        .values_list("message", flat=True)
    )


def publish(body: str) -> str:
    return f"#!/bin/sh\n{body}\nmkdir -p dist && echo ok > dist/index.html\n"


@pytest.fixture
def exposed(tmp_path):
    """Files any local user could read: another site's page and a copy of the panel's key."""
    root = Path(tempfile.mkdtemp(prefix="berth-exposed-"))
    root.chmod(0o755)
    (root / "sites" / "bobs-site").mkdir(parents=True)
    (root / "sites" / "bobs-site" / "index.html").write_text("bob's private draft")
    (root / "var").mkdir()
    (root / "var" / "secret_key").write_text("panel-secret-key-value")
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield root
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def test_the_build_cannot_read_the_panels_environment(alice, tmp_path, monkeypatch):
    monkeypatch.setenv("BERTH_ADMIN_PASSWORD", "hunter2-panel-admin")
    script = publish(
        f"cat /proc/{os.getpid()}/environ && echo READ-PANEL-ENV\n"
        "env\n"
        "ls /proc | grep -c '^[0-9]' | sed 's/^/processes visible: /'\n"
    )
    deployment = build(alice, tmp_path, script)
    log = log_of(deployment)
    assert deployment.status == "success", log
    assert "READ-PANEL-ENV" not in log
    assert "hunter2-panel-admin" not in log
    if os.environ.get("DATABASE_URL"):
        assert os.environ["DATABASE_URL"] not in log
    visible = int(log.split("processes visible: ")[1].split()[0])
    assert visible < 10  # its own shell, ls and grep; never the host's processes


def test_the_build_cannot_read_var_the_code_or_another_sites_files(alice, tmp_path, exposed):
    targets = [
        exposed / "var" / "secret_key",
        exposed / "sites" / "bobs-site" / "index.html",
        Path(django_settings.BASE_DIR) / "manage.py",
        Path(django_settings.VAR_DIR) / "secret_key",
        Path(django_settings.MEDIA_ROOT),
        Path(django_settings.BUILD_ROOT),
    ]
    script = publish(
        "\n".join(f"cat {t} && echo 'LEAKED {t}'; ls {t} && echo 'LEAKED {t}'" for t in targets)
    )
    deployment = build(alice, tmp_path, script)
    log = log_of(deployment)
    assert deployment.status == "success", log
    assert "LEAKED" not in log
    assert "bob's private draft" not in log and "panel-secret-key-value" not in log


def test_the_build_cannot_write_outside_its_checkout(alice, tmp_path, exposed):
    (exposed / "open").mkdir()
    (exposed / "open").chmod(0o777)
    targets = [exposed / "open" / "planted", Path("/usr/local/bin/planted"), Path("/etc/planted")]
    script = publish(
        "\n".join(f"echo pwned > {t} && echo 'WROTE {t}'" for t in targets)
        + "\necho mine > /tmp/scratch && echo 'tmp is writable'"
    )
    deployment = build(alice, tmp_path, script)
    log = log_of(deployment)
    assert deployment.status == "success", log
    assert "WROTE" not in log and "tmp is writable" in log
    assert not any(t.exists() for t in targets)


def test_the_build_cannot_reach_the_database_redis_or_the_panel(alice, tmp_path):
    panel = socket.socket()
    panel.bind(("127.0.0.1", 0))
    panel.listen()
    panel.settimeout(0.2)
    reached = []

    def accept():
        while panel.fileno() != -1:
            try:
                conn, _ = panel.accept()
            except OSError:
                continue
            reached.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    port = panel.getsockname()[1]
    probe = (
        "import socket, sys\n"
        "for host in ('127.0.0.1', '10.0.2.2'):\n"
        f"    for port in (5432, 6379, 3306, {port}):\n"
        "        try:\n"
        "            socket.create_connection((host, port), timeout=3).close()\n"
        "            print('CONNECTED', host, port)\n"
        "        except OSError as exc:\n"
        "            print('blocked', host, port, exc)\n"
    )
    script = publish(f"python3 - <<'EOF'\n{probe}EOF")
    try:
        deployment = build(alice, tmp_path, script)
    finally:
        panel.close()
    log = log_of(deployment)
    assert deployment.status == "success", log
    assert log.count("blocked") == 8 and "CONNECTED" not in log
    assert reached == []


def test_the_build_cannot_reach_the_hosts_addresses_metadata_or_private_ranges(alice, tmp_path):
    """slirp4netns connects from the host: without the namespace's routes, a build would reach
    the host's own address, the cloud metadata service and the private network."""
    host = [str(address) for address in netpolicy.host_addresses()]
    assert host, "the machine has a non-loopback IPv4 address"
    service = socket.socket()
    service.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    service.bind(("0.0.0.0", 0))  # noqa: S104 - a private service bound to every address
    service.listen()
    service.settimeout(0.2)
    reached = []

    def accept():
        while service.fileno() != -1:
            try:
                conn, _ = service.accept()
            except OSError:
                continue
            reached.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    port = service.getsockname()[1]
    socket.create_connection((host[0], port), timeout=3).close()  # the host itself reaches it
    wait = 0
    while not reached and wait < 50:
        threading.Event().wait(0.1)
        wait += 1
    assert len(reached) == 1
    reached.clear()
    targets = [(address, port) for address in host] + [
        ("169.254.169.254", 80),
        ("10.1.2.3", 80),
        ("172.16.0.1", 80),
        ("192.168.1.1", 80),
        ("100.64.0.1", 80),
    ]
    probe = (
        "import socket\n"
        f"for host, port in {targets!r} + [('registry.npmjs.org', 443)]:\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=5).close()\n"
        "        print('CONNECTED', host)\n"
        "    except OSError as exc:\n"
        "        print('blocked', host, exc.errno)\n"
    )
    try:
        deployment = build(alice, tmp_path, publish(f"python3 - <<'EOF'\n{probe}EOF"))
    finally:
        service.close()
    log = log_of(deployment).splitlines()
    assert deployment.status == "success", log
    for address, _ in targets:
        assert f"blocked {address} 113" in log  # EHOSTUNREACH: refused inside the namespace
    assert "CONNECTED registry.npmjs.org" in log  # the internet still works
    assert reached == []


def _sandbox(root: Path, argv: list[str], name: str) -> sandbox.SandboxedProcess:
    root.mkdir(mode=0o711)
    space = sandbox.Workspace.create(root)
    space.checkout.mkdir()
    space.hand_over(space.checkout)
    process = sandbox.SandboxedProcess(
        argv, workspace=space, env={"PATH": "/usr/bin:/bin"}, cwd=space.checkout, name=name
    )
    process.start()
    return process


def test_ending_one_sandbox_never_kills_a_later_one(settings):
    """A namespace's number is reused as soon as it ends: a late kill of a finished sandbox
    (a cancel racing its end) must not reach a build that started after it."""
    root = Path(tempfile.mkdtemp(prefix="berth-sandboxes-"))
    root.chmod(0o711)
    try:
        first = _sandbox(root / "first", ["/bin/true"], f"first-{os.getpid()}")
        first.proc.communicate(timeout=30)
        first.close()
        later = _sandbox(root / "later", ["/bin/sleep", "30"], f"later-{os.getpid()}")
        try:
            first.kill()
            assert later.proc.poll() is None
            assert later.pidns and sandbox.namespace_pids(later.pidns)
        finally:
            later.close()
        assert later.proc.returncode is not None
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_no_process_of_the_build_survives_it(alice, tmp_path):
    daemon, grandchild = sleep_marker(), sleep_marker()
    script = publish(
        f"setsid sh -c '{daemon}' </dev/null >/dev/null 2>&1 &\n"
        f"( ( {grandchild} </dev/null >/dev/null 2>&1 & ) & )\n"
        "sleep 0.5\n"
    )
    deployment = build(alice, tmp_path, script)
    assert deployment.status == "success", log_of(deployment)
    assert processes_running(daemon) == [] and processes_running(grandchild) == []


def test_a_fork_loop_stops_at_the_process_limit(alice, tmp_path, settings):
    settings.BUILD_MAX_PROCESSES = 40
    forker = (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    while n < 1000:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "except OSError as exc:\n"
        "    print('fork refused after', n, exc)\n"
    )
    script = publish(f"python3 - <<'EOF'\n{forker}EOF")
    deployment = build(alice, tmp_path, script)
    log = log_of(deployment)
    assert deployment.status == "success", log
    started = int(log.split("fork refused after ")[1].split()[0])
    assert started < 40


@pytest.mark.parametrize("cgroup", ["auto", "off"])
def test_memory_past_the_limit_fails_the_build_clearly(alice, tmp_path, settings, cgroup):
    settings.BUILD_MEMORY_MB = 100
    settings.BUILD_CGROUP = cgroup
    hog = (
        "import time\n"
        "chunks = []\n"
        "for _ in range(60):\n"
        "    chunks.append(b'x' * 10 * 2**20)\n"
        "    time.sleep(0.05)\n"
        "print('ALLOCATED 600 MB')\n"
    )
    deployment = build(alice, tmp_path, f"#!/bin/sh\npython3 - <<'EOF'\n{hog}EOF\n")
    log = log_of(deployment)
    assert deployment.status == "failed", log
    assert "ALLOCATED" not in log
    assert "out of memory (limit 100 MB" in deployment.error


def test_node_with_webassembly_runs_under_the_memory_limit(alice, tmp_path):
    # An address-space limit of the same size kills this: V8 reserves far more than it uses.
    wasm = "new WebAssembly.Memory({initial: 1, maximum: 65536}); console.log('WASM OK')"
    deployment = build(alice, tmp_path, publish(f'node -e "{wasm}"'))
    assert deployment.status == "success", log_of(deployment)
    assert "WASM OK" in log_of(deployment)


def test_npm_installs_from_the_registry_inside_the_sandbox(alice, tmp_path):
    package = '{"name": "probe", "version": "1.0.0", "dependencies": {"is-number": "7.0.0"}}'
    script = publish(
        f"echo '{package}' > package.json\n"
        "npm install --no-audit --no-fund\n"
        "node -e \"console.log('is-number says', require('is-number')(5))\"\n"
    )
    deployment = build(alice, tmp_path, script)
    log = log_of(deployment)
    assert deployment.status == "success", log
    assert "is-number says true" in log


def test_the_log_starts_with_the_tool_versions(alice, tmp_path):
    deployment = build(alice, tmp_path, publish(""))
    log = log_of(deployment)
    tools = next(line for line in log.splitlines() if line.startswith("Tools: "))
    assert "node v" in tools and "npm " in tools and "Python 3." in tools


def test_without_a_sandbox_builds_refuse_to_run(alice, tmp_path, monkeypatch, settings):
    empty = tmp_path / "no-bwrap"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    sandbox.problem.cache_clear()
    try:
        deployment = build(alice, tmp_path, publish("echo SHOULD-NOT-RUN"))
    finally:
        monkeypatch.undo()
        sandbox.problem.cache_clear()
    assert deployment.status == "failed"
    assert deployment.error == "Builds are disabled: no sandbox; see docs/builds.md."
    log = log_of(deployment)
    assert "bubblewrap (bwrap) is not installed" in log and "SHOULD-NOT-RUN" not in log


def test_the_operator_may_opt_out_of_the_sandbox(alice, tmp_path, settings):
    settings.BUILD_SANDBOX = "none"
    deployment = build(alice, tmp_path, publish("echo unconfined"))
    assert deployment.status == "success"
    assert "without a sandbox" in log_of(deployment)


def test_check_deploy_warns_about_the_opt_out(settings):
    from django.core.management import call_command

    settings.BUILD_SANDBOX = "none"
    out = io.StringIO()
    call_command("check", "--deploy", stdout=out, stderr=out)
    assert "deployments.W001" in out.getvalue() and "BUILD_SANDBOX=none" in out.getvalue()
    settings.BUILD_SANDBOX = "bubblewrap"
    out = io.StringIO()
    call_command("check", "--deploy", stdout=out, stderr=out)
    assert "deployments.W001" not in out.getvalue()


def test_leftover_check_helpers_see_live_processes():
    # processes_running must find a live process, or the survival test proves nothing.
    import subprocess

    marker = sleep_marker()
    proc = subprocess.Popen(marker.split())
    try:
        # Popen can return a moment before /proc shows the new program's command line.
        assert wait_for(lambda: processes_running(marker), timeout=10) == [proc.pid]
        assert alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_cloning_runs_no_repository_hooks_and_no_ext_transport(alice, tmp_path, exposed):
    """A post-checkout hook or an ext:: submodule would run code outside the sandbox."""
    planted = exposed / "open-hook"
    repo = make_repo(tmp_path / "hooked", {"build.sh": publish("")})
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    hook = f"#!/bin/sh\ntouch {planted}\n"
    (hooks / "post-checkout").write_text(hook)
    (hooks / "post-checkout").chmod(0o755)
    template = tmp_path / "template" / "hooks"
    template.mkdir(parents=True)
    (template / "post-checkout").write_text(hook)
    (template / "post-checkout").chmod(0o755)
    env = {**runner.git_env(tmp_path, ""), "GIT_TEMPLATE_DIR": str(template.parent)}
    import subprocess

    clone = subprocess.run(
        ["git", "clone", "-q", "--", repo.as_uri(), str(tmp_path / "copy")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert clone.returncode == 0, clone.stderr
    assert not planted.exists()
    ext = subprocess.run(
        ["git", "clone", "-q", "--", f"ext::sh -c touch% {planted}", str(tmp_path / "x")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ext.returncode != 0 and "transport 'ext' not allowed" in ext.stderr
    assert not planted.exists()


def test_local_repositories_are_off_under_https_and_bound_to_their_roots(settings, tmp_path):
    from django.core.exceptions import ValidationError

    from deployments import git

    repo = make_repo(tmp_path / "local", {"index.html": "hi"})
    settings.BUILD_LOCAL_REPOSITORY_ROOTS = [tmp_path]
    assert git.clone_url_for(str(repo)) == repo.as_uri()
    settings.BUILD_LOCAL_REPOSITORY_ROOTS = [tmp_path / "elsewhere"]
    with pytest.raises(ValidationError, match="BUILD_LOCAL_REPOSITORY_ROOTS"):
        git.clone_url_for(str(repo))
    with pytest.raises(ValidationError, match="BUILD_LOCAL_REPOSITORY_ROOTS"):
        git.clone_url_for(f"file://{tmp_path}/elsewhere/../local")
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.BUILD_ALLOW_LOCAL_REPOSITORIES)"
    for panel_url, expected in (
        ("https://panel.example.com", "False"),
        ("http://localhost:8000", "True"),
    ):
        env = {k: v for k, v in os.environ.items() if k != "BUILD_ALLOW_LOCAL_REPOSITORIES"}
        env.update(
            PANEL_URL=panel_url,
            BERTH_READ_DOTENV="0",
            DJANGO_SETTINGS_MODULE="controlpanel.settings",
        )
        out = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {code}"],
            env=env,
            capture_output=True,
            text=True,
            cwd=django_settings.BASE_DIR,
        )
        assert out.stdout.strip() == expected, out.stderr


@pytest.mark.parametrize("cgroup", ["auto", "off"])
def test_a_build_records_the_cpu_time_and_memory_it_used(alice, tmp_path, settings, cgroup):
    """Its CPU time (user + system) and its peak memory are on the deployment, for the team's
    resource usage: a build that computes for 2 s of CPU and holds 150 MB for a moment.
    Without a cgroup the sandbox reads them every few tenths of a second: the last moments
    may be missed, never more counted."""
    settings.BUILD_CGROUP = cgroup
    work = (
        "import time\n"
        "held = bytearray(150 * 2**20)\n"
        "for offset in range(0, len(held), 4096):\n"
        "    held[offset] = 1\n"
        "time.sleep(0.5)\n"
        "del held\n"
        "while time.process_time() < 2:\n"
        "    sum(range(10000))\n"
    )
    deployment = build(alice, tmp_path, publish(f"python3 - <<'EOF'\n{work}EOF"))
    assert deployment.status == "success", log_of(deployment)
    assert deployment.build_cpu_seconds >= 1.5
    assert deployment.build_memory_peak >= 150 * 2**20
