"""The README's configuration table stays in step with the settings."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_variables() -> set[str]:
    source = (ROOT / "controlpanel" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', source))
    names |= set(re.findall(r'secret\(\s*"([A-Z][A-Z0-9_]+)"', source))
    return names


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", readme, re.M))
    documented |= set(re.findall(r"`([A-Z][A-Z0-9_]+)` / `([A-Z][A-Z0-9_]+)`", readme)[0])
    missing = sorted(settings_variables() - documented)
    assert missing == [], f"add these to the README's configuration table: {missing}"


def test_every_setting_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    core = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SITES_DOMAIN", "PANEL_URL", "S3_BUCKET"}
    assert all(name in example for name in core)


def literal_defaults() -> dict[str, str]:
    """Settings whose default is a plain number or string, as the README would print it."""
    source = (ROOT / "controlpanel" / "settings.py").read_text()
    found = {}
    pattern = r'env\.(int|float|str)\(\s*"([A-Z][A-Z0-9_]+)",\s*default=([^,)\n]+)\)'
    for kind, name, default in re.findall(pattern, source):
        default = default.strip().replace("_", "")
        if kind == "str" and re.fullmatch(r'"[^"]+"', default):
            found[name] = default.strip('"')
        elif kind in ("int", "float") and re.fullmatch(r"\d+(\.\d+)?", default):
            found[name] = str(float(default)).removesuffix(".0")
    return found


def test_readme_defaults_agree_with_the_code():
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \| `([^`|]*)` \|", readme, re.M))
    defaults = literal_defaults()
    assert defaults["CHANNEL_LAYER_CAPACITY"] == "100"
    wrong = {
        name: (rows[name], value)
        for name, value in defaults.items()
        if name in rows and rows[name] != value
    }
    assert wrong == {}, f"README default differs from the code (README, code): {wrong}"
