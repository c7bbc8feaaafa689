"""The repository explains itself: no comment or page points at a document a reader lacks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "var", "node_modules", "vendor", "__pycache__", "staticfiles"}
TEXT_SUFFIXES = {".py", ".md", ".txt", ".html", ".css", ".js", ".toml", ".cfg", ".sh", ".yml"}
# A product document or tracker entry named by its number instead of by what it says.
NUMBERED = re.compile(r"\b(" + "se" + "ed|is" + "sue) ?[0-9]{1,3}\b", re.IGNORECASE)
OUTSIDE = re.compile(r"\b" + "DES" + r"IGN\.md\b|sha" + "red folder")


def project_files():
    for path in ROOT.rglob("*"):
        if any(part in SKIP_DIRS for part in path.relative_to(ROOT).parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.parent.name == ".ci"):
            yield path


def test_no_comment_names_a_document_by_number():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in project_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if NUMBERED.search(line)
    ]
    assert found == [], "say what is meant instead:\n" + "\n".join(found)


def test_docs_do_not_send_the_reader_outside_the_repository():
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in project_files()
        for line in path.read_text(errors="replace").splitlines()
        if OUTSIDE.search(line)
    ]
    assert found == [], "\n".join(found)


def test_every_apps_tests_are_collected():
    """A test folder missing from pytest's testpaths would never run in CI, silently."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    testpaths = set(config["tool"]["pytest"]["ini_options"]["testpaths"])
    with_tests = {path.parent.name for path in ROOT.glob("*/tests") if path.is_dir()}
    assert with_tests - testpaths == set(), "add these apps to testpaths in pyproject.toml"
