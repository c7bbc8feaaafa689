"""Cold vs warm build of the stock Vite React template: what the dependency cache saves.

The project is scaffolded from the npm registry with ``create-vite`` (its package-lock.json
committed, as a real repository would), then built through the real build runner in the
sandbox, in rounds: the project's cache cleared (a cold build: registry downloads, ``npm ci``);
only the cached ``node_modules`` removed (what a changed lockfile costs: ``npm ci`` from npm's
download cache); then built again unchanged (a warm build: ``node_modules`` restored, the
install skipped).
The install phase is timed from the build's own log (from the line after the tool versions to
"Building:"), the whole build from its start to its end.

Run: ``python benchmarks/build_cache.py [rounds]`` (default 3; needs bubblewrap, slirp4netns,
node and the npm registry).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from _builds import make_repo
from _env import owner, setup

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
CREATE_VITE = "create-vite@9.3.0"
NPM_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}


def scaffold(root: Path) -> dict[str, bytes]:
    env = {**NPM_ENV, "HOME": str(root), "npm_config_cache": str(root / ".npm")}
    subprocess.run(
        ["npm", "exec", "--yes", "--", CREATE_VITE, "app", "--template", "react",
         "--no-interactive"],
        cwd=root, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    project = root / "app"
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts"],
        cwd=project, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and path.relative_to(project).parts[0] not in ("node_modules", ".npm")
    }


def phases(deployment) -> tuple[float, float]:
    """(install phase, whole build) in seconds, from the build's log and row."""
    from deployments.models import LogLine

    lines = list(LogLine.objects.filter(deployment=deployment).order_by("seq"))
    tools = next(i for i, line in enumerate(lines) if line.message.startswith("Tools: "))
    building = next(line for line in lines if line.message.startswith("Building: "))
    install = (building.timestamp - lines[tools].timestamp).total_seconds()
    whole = (deployment.finished_at - deployment.started_at).total_seconds()
    return install, whole


def main() -> None:
    work = setup("build-cache")
    work.chmod(0o711)  # the sandbox's uid walks to its folders
    from django.conf import settings

    from deployments import builds, dependency_cache, runner

    settings.BUILD_ROOT = work / "builds"
    settings.BUILD_CACHE_ROOT = work / "cache"
    settings.BUILD_TIMEOUT = 900
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = owner()
    print("Scaffolding the Vite React template…")
    (work / "scaffold").mkdir()
    repo = make_repo(work / "repo", scaffold(work / "scaffold"))
    project = None
    times: dict[str, list[tuple[float, float]]] = {"cold": [], "downloads cached": [], "warm": []}
    try:
        for round_number in range(1, ROUNDS + 1):
            for kind in times:
                if project is None:
                    deployment = builds.deployment_create(user=user, repository=str(repo))
                    project = deployment.project
                else:
                    if kind == "cold":
                        dependency_cache.clear(project.pk)
                    elif kind == "downloads cached":
                        shutil.rmtree(dependency_cache.project_root(project.pk) / "deps")
                    deployment = builds.deployment_deploy_latest(project=project)
                assert builds.build_claim(deployment_id=deployment.pk) == "claimed"
                done = runner.run_build(deployment.pk)
                assert done.status == "success", done.error
                install, whole = phases(done)
                times[kind].append((install, whole))
                print(f"round {round_number} {kind}: install {install:.2f} s, build {whole:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cold_install = statistics.median(i for i, _ in times["cold"])
    cold_whole = statistics.median(w for _, w in times["cold"])
    for kind, runs in times.items():
        install = statistics.median(i for i, _ in runs)
        whole = statistics.median(w for _, w in runs)
        print(
            f"median {kind}: install {install:.2f} s ({install / cold_install:.3f} of cold), "
            f"whole build {whole:.1f} s ({whole / cold_whole:.2f} of cold)"
        )


if __name__ == "__main__":
    main()
