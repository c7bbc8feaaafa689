"""WordPress: from the click to the first page, and the home page's requests per second
through the nginx edge.

Run: python benchmarks/wordpress.py [--duration 10] [--connections 16]

Needs MariaDB (MARIADB_URL, default mysql://root@127.0.0.1:3306), php-fpm, WordPress core,
nginx and wrk. A throwaway Berth (SQLite) with its own supervisord creates one WordPress site
the way the create page does, provisioning inline (the Celery task's body), and times it until
the home page answers 200 with the site's title through the embedded site server; then nginx
runs the config ``edge_sync`` renders and wrk asks for the home page. The site is deleted at
the end (database, user, pool and files).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env
from benchmarks.serving import free_port, wait_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    port = free_port()
    os.environ.setdefault("MARIADB_URL", "mysql://root@127.0.0.1:3306")
    os.environ.update(
        CELERY_TASK_ALWAYS_EAGER="1",
        EDGE_LISTEN=f"127.0.0.1:{port}",
        EDGE_NGINX_USER="root" if os.geteuid() == 0 else "",
    )
    work = _env.setup("wordpress")
    work.chmod(0o711)  # the site's own user reaches its folder
    os.environ["WORDPRESS_ROOT"] = str(work / "wordpress")

    from asgiref.sync import async_to_sync
    from django.conf import settings

    from controlpanel.supervision import Supervisor
    from hosting.serving.app import SiteServer
    from hosting.serving.edge import edge_config_path, edge_sync
    from teams.services import acting_team
    from wordpress.services import wordpress_problem, wordpress_site_create

    settings.WORDPRESS_ROOT = work / "wordpress"
    supervisor = Supervisor(settings.SUPERVISOR_DIR)
    supervisor.write_config([])
    supervisor.start()
    nginx = None
    site = None
    try:
        problem = wordpress_problem()
        if problem:
            raise SystemExit(problem)
        user = _env.owner()
        started = time.perf_counter()
        site = wordpress_site_create(
            owner=user,
            team=acting_team(user),
            name="Bench blog",
            title="Bench blog",
            admin_user="bench",
            admin_email="bench@example.com",
            admin_password="a-long-bench-password",  # noqa: S106
        )
        server = SiteServer()
        status, body = fetch(async_to_sync, server, site.hostname)
        first_page = time.perf_counter() - started
        if status != 200 or b"Bench blog" not in body:
            raise SystemExit(f"The home page answered {status}.")
        print(f"click to first page: {first_page:.1f} s (goal: 30 s or less)")
        edge_sync(reload=False)
        nginx = subprocess.Popen(
            [settings.EDGE_NGINX, "-p", str(settings.EDGE_ROOT), "-c", str(edge_config_path())],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(port)
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "-H",
                f"Host: {site.hostname}",
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(
            f"home page through the edge: {rate:.0f} requests/s "
            f"({args.connections} connections, {settings.WORDPRESS_MAX_CHILDREN} PHP workers"
            + (f", {failed.group(1)} failed)" if failed else ")")
        )
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        if site is not None:
            from hosting.services import site_delete

            site_delete(site=site)
        supervisor.shutdown()


def fetch(async_to_sync, server, host: str) -> tuple[int, bytes]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    async_to_sync(server)(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


if __name__ == "__main__":
    main()
