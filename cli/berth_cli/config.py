"""Where berth keeps its sign-in: ``config.json`` in the user's config folder (platformdirs:
``~/.config/berth`` on Linux), readable by the user only. ``BERTH_URL`` and ``BERTH_TOKEN``
override it (CI jobs need no file at all)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

FILE_MODE = 0o600
DIR_MODE = 0o700


def config_path() -> Path:
    return Path(platformdirs.user_config_dir("berth", appauthor=False)) / "config.json"


@dataclass
class Config:
    url: str = ""
    token: str = ""
    token_id: str = ""
    email: str = ""


def load(path: Path | None = None) -> Config:
    path = path or config_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return Config()
    if not isinstance(data, dict):
        return Config()
    return Config(**{k: str(v) for k, v in data.items() if k in Config.__dataclass_fields__})


def save(config: Config, path: Path | None = None) -> Path:
    """Write the file readable and writable by the user alone (created so from the start: the
    token is never readable by others, not even for a moment)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)  # an older file may have had looser bits
        json.dump(asdict(config), handle, indent=2)
        handle.write("\n")
    return path


def forget(path: Path | None = None) -> bool:
    path = path or config_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
