"""Publishing cost: a 1,000-file site, then the same site with one file changed.

Run: python benchmarks/publish.py  (prints seconds, blobs and bytes written for both).
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

FILES = 1000


def disk_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def tree(changed: int | None = None) -> dict[str, bytes]:
    files = {}
    for n in range(FILES):
        text = f"<!doctype html><title>Page {n}</title>" + f"<p>Paragraph {n}.</p>" * (20 + n % 50)
        if n == changed:
            text += "<p>edited</p>"
        files[f"section{n % 20}/page{n}.html"] = text.encode()
    return files


def publish(site, files, label: str) -> None:
    from deployments.services import deployment_publish

    blobs = Path(os.environ["MEDIA_ROOT"]) / "blobs"
    before = disk_bytes(blobs) if blobs.exists() else 0
    start = time.perf_counter()
    deployment = deployment_publish(
        site=site,
        files=[(p, (lambda d=d: io.BytesIO(d))) for p, d in files.items()],
        source="upload",
    )
    seconds = time.perf_counter() - start
    stats = deployment.publish_stats
    written = disk_bytes(blobs) - before
    print(
        f"{label:<28} {seconds:7.2f} s  {stats.files:5d} files  {stats.blobs_written:5d} blobs "
        f"written  {stats.bytes_written:10,d} bytes of content  {written:10,d} bytes on disk "
        "(with .gz/.br)"
    )


def main() -> None:
    _env.setup("publish")
    from hosting.services import site_create

    site = site_create(owner=_env.owner(), name="Bench", slug="bench")
    publish(site, tree(), f"first publish ({FILES} files)")
    publish(site, tree(changed=7), "one file changed")
    publish(site, tree(changed=7), "nothing changed")


if __name__ == "__main__":
    main()
