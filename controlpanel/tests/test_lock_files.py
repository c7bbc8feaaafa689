"""The lock files stay in step with the requirements they were compiled from.

scripts/_venv.sh installs requirements.lock / requirements-dev.lock, not the requirements files:
a pin changed in requirements*.txt without `scripts/lock.sh` would silently not be installed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def pins(path: Path) -> dict[str, str]:
    text = path.read_text()
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in PIN.findall(text)}


@pytest.mark.parametrize(
    ("requirements", "lock"),
    [
        (["requirements.txt"], "requirements.lock"),
        (["requirements.txt", "requirements-dev.txt"], "requirements-dev.lock"),
    ],
)
def test_every_pin_is_in_its_lock_file_with_hashes(requirements, lock):
    locked = pins(ROOT / lock)
    wanted: dict[str, str] = {}
    for name in requirements:
        wanted.update(pins(ROOT / name))
    differing = {
        name: (version, locked.get(name))
        for name, version in wanted.items()
        if locked.get(name) != version
    }
    assert differing == {}, f"run scripts/lock.sh: (wanted, locked) {differing}"
    lines = (ROOT / lock).read_text().splitlines()
    # A pin with hashes continues on the next line ("name==1.0 \" then "--hash=sha256:...").
    unhashed = [line for line in lines if PIN.match(line) and not line.endswith("\\")]
    assert unhashed == [], f"pins without hashes in {lock}: {unhashed}"
    assert any("scripts/lock.sh" in line for line in lines[:10] if line.startswith("#"))


def test_runtime_and_development_locks_agree():
    runtime, development = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    differing = {n: (v, development.get(n)) for n, v in runtime.items() if development.get(n) != v}
    assert differing == {}, f"run scripts/lock.sh: {differing}"
