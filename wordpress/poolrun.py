"""Start a site's php-fpm master, first ending the workers a crashed master left behind.

supervisord restarts a php-fpm master that died, but a master killed outright (SIGKILL, the
OOM killer) leaves its workers running with the old socket: they would hold the site's user
and serve beside the new pool. Run as ``python -m wordpress.poolrun <pool> <php-fpm> args...``
(no Django: it starts in milliseconds), it ends every process titled ``php-fpm: pool <pool>``
and then becomes php-fpm.
"""

from __future__ import annotations

import contextlib
import os
import sys

import psutil


def leftovers(pool: str) -> list[psutil.Process]:
    title = f"php-fpm: pool {pool}"
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            line = " ".join(proc.info["cmdline"] or []).strip()
            if line == title or line.startswith(title + " "):
                found.append(proc)
    return found


def main(argv: list[str]) -> None:
    pool, command = argv[0], argv[1:]
    stale = leftovers(pool)
    for proc in stale:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(stale, timeout=5)
    os.execv(command[0], command)  # noqa: S606 - the php-fpm binary from Berth's settings


if __name__ == "__main__":
    main(sys.argv[1:])
