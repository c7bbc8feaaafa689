"""A live Berth for the command-line client's tests: the panel under a real daphne (HTTP and
WebSockets) on the test database, a real Celery worker for git builds, and the ``berth``
command installed with pip into a temporary folder, run as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployments.tests.conftest import (  # noqa: F401  (fixtures: fast build limits)
    DaphneServer,
    WorkerProcess,
    _build_settings,
    _purge_broker,
)

CLI_SOURCE = Path(__file__).resolve().parents[1]
# The panel's limits would stop a test that deploys a dozen times in a minute.
GENEROUS_LIMITS = {
    "RATE_LIMIT_GENERAL": "100000/min",
    "RATE_LIMIT_DEPLOYMENTS": "100000/hour",
    "RATE_LIMIT_AUTH": "1000/min",
}


@pytest.fixture(scope="session")
def berth_install(tmp_path_factory) -> Path:
    """``pip install`` of the client (its dependencies are the test environment's): answers
    the folder holding the ``bin/berth`` console script and the package."""
    work = tmp_path_factory.mktemp("berth-cli")
    source = work / "source"
    shutil.copytree(CLI_SOURCE, source, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    target = work / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    assert (target / "bin" / "berth").exists()
    return target


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class Berth:
    """Runs the installed ``berth`` command against the live panel, as a user's shell would:
    its own HOME and config folder, BERTH_URL set, nothing of the test process's environment."""

    def __init__(self, install: Path, home: Path, url: str):
        self.install = install
        self.home = home
        self.env = {
            "PATH": f"{install / 'bin'}:{os.path.dirname(sys.executable)}:/usr/bin:/bin",
            "PYTHONPATH": str(install),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "BERTH_URL": url,
            "LANG": "C.UTF-8",
        }

    @property
    def config_file(self) -> Path:
        return self.home / ".config" / "berth" / "config.json"

    def __call__(self, *args: str, stdin: str = "", env: dict | None = None, timeout=180):
        done = subprocess.run(
            [str(self.install / "bin" / "berth"), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            cwd=self.home,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def live(transactional_db, settings, tmp_path):
    server = DaphneServer(tmp_path, settings, GENEROUS_LIMITS)
    yield server
    server.stop()


@pytest.fixture
def live_worker(transactional_db, settings, tmp_path):
    _purge_broker()
    process = WorkerProcess(tmp_path, settings)
    yield process
    process.stop()


@pytest.fixture
def berth(berth_install, live, tmp_path) -> Berth:
    home = tmp_path / "home"
    home.mkdir()
    return Berth(berth_install, home, live.url)
