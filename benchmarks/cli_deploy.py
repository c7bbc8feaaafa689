"""Folder deploys with the ``berth`` command: a 1,000-file folder, then the same folder with one
file changed, then unchanged, against a throwaway Berth under daphne. The client sends the
manifest of digests and uploads only what the server asks for: the second deploy uploads one
file.

Run: ``python benchmarks/cli_deploy.py`` (prints files uploaded, bytes and seconds per deploy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _builds import ROOT, setup, start_daphne, user_and_token

FILES = 1000


def write_folder(root: Path, run: str, changed: int | None = None) -> None:
    for n in range(FILES):
        text = f"<!doctype html><title>Page {n} {run}</title>" + f"<p>Paragraph {n}.</p>" * (
            20 + n % 50
        )
        if n == changed:
            text += "<p>edited</p>"
        path = root / f"section{n % 20}" / f"page{n}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def berth_deploy(url: str, token: str, site: str, folder: Path, home: Path) -> tuple[dict, float]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "cli"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "BERTH_URL": url,
        "BERTH_TOKEN": token,
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "berth_cli", "deploy", str(folder), "--site", site, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"berth deploy failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout), seconds


def main() -> None:
    var = setup()
    from hosting.services import site_create

    user, token = user_and_token("cli-bench@example.com")
    run = uuid.uuid4().hex[:8]  # a site and contents of its own, whatever the database holds
    site = site_create(owner=user, name="Bench", slug=f"bench-{run}").slug
    daphne, port = start_daphne(var)
    work = Path(tempfile.mkdtemp(prefix="berth-cli-bench-"))
    folder, home = work / "public", work / "home"
    home.mkdir()
    try:
        url = f"http://127.0.0.1:{port}"
        rounds = [
            (f"first deploy ({FILES} files)", None),
            ("one file changed", 7),
            ("nothing changed", 7),
        ]
        print(f"{'deploy':<28} {'uploaded':>9} {'bytes uploaded':>15} {'seconds':>8}")
        for label, changed in rounds:
            write_folder(folder, run, changed)
            answer, seconds = berth_deploy(url, token, site, folder, home)
            stats = answer["stats"]
            assert stats["files"] == FILES, stats
            print(
                f"{label:<28} {stats['blobsWritten']:>9,d} {stats['bytesWritten']:>15,d} "
                f"{seconds:>8.2f}"
            )
    finally:
        daphne.stop()


if __name__ == "__main__":
    main()
