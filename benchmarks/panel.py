"""Panel request cost against a hello-world floor, measured in one run on PostgreSQL + Redis.

Run: python benchmarks/panel.py [--requests 300] [--only health,search,api]
[--database-url postgres://...] [--redis-url redis://127.0.0.1:6379/12]

Without ``--database-url`` a throwaway PostgreSQL database is created on 127.0.0.1 and dropped
afterwards. Requests go through Django's WSGI handler in this process (the whole middleware
stack, as gunicorn would call it); the figure is this process's CPU time per request (steadier
than wall time on a shared machine), and each figure is printed as a ratio to a hello-world view
under the same middleware, measured in the same run.

- health: ``GET /health`` (database and Redis pings).
- search: ``GET /api/deployments?search=<no match>`` p50 wall time with 100 and then 10,000
  deployments of one user (1,000 sites); the ratio is the target (flat: at most 1.5).
- api: ``GET /api/deployments?page=1&limit=10`` with 10,000 deployments.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

HELLO_PATH = "/bench-hello"


def hello_urls():
    """A URLconf: the panel's plus a hello-world view (the floor)."""
    import types

    from django.http import HttpResponse
    from django.urls import include, path

    module = types.ModuleType("benchmarks_panel_urls")
    module.urlpatterns = [
        path(HELLO_PATH.lstrip("/"), lambda request: HttpResponse("hello")),
        path("", include("controlpanel.urls")),
    ]
    sys.modules[module.__name__] = module
    return module.__name__


class Driver:
    """Calls the WSGI application directly, as a WSGI server would."""

    def __init__(self, headers: dict[str, str] | None = None):
        from django.core.wsgi import get_wsgi_application

        self.app = get_wsgi_application()
        self.headers = headers or {}

    def get(self, url: str) -> tuple[int, bytes]:
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status = []
        result = self.app(environ, lambda s, h, exc_info=None: status.append(s))
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return int(status[0].split()[0]), body

    def measure(self, url: str, requests: int) -> dict:
        """CPU µs per request (this process) and wall-time p50 in ms, after a warm-up."""
        for _ in range(max(10, requests // 10)):
            code, body = self.get(url)
            if code != 200:
                raise SystemExit(f"{url} answered {code}: {body[:300]!r}")
        walls = []
        cpu_started = time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            self.get(url)
            walls.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu_started
        return {"cpu_us": cpu / requests * 1e6, "p50_ms": statistics.median(walls) * 1000}


def seed(user, *, sites: int, deployments: int, start: int = 0) -> None:
    """``sites`` sites with ``deployments`` deployments in all (the first ``start`` exist)."""
    from deployments.models import Deployment, Project
    from hosting.models import Site
    from teams.models import Team

    team = Team.objects.filter(memberships__user=user).first()
    existing = list(Site.objects.filter(team=team).order_by("slug"))
    new_sites = [
        Site(
            team=team,
            owner=user,
            name=f"Shop {n}",
            slug=f"shop-{n}",
            status=Site.Status.ONLINE,
            storage_limit=1 << 30,
            bandwidth_limit=1 << 34,
        )
        for n in range(len(existing), sites)
    ]
    Site.objects.bulk_create(new_sites, batch_size=500)
    all_sites = list(Site.objects.filter(team=team).order_by("slug"))
    projects = {p.site_id: p for p in Project.objects.filter(team=team)}
    new_projects = [
        Project(
            team=team,
            owner=user,
            site=site,
            name=f"app-{site.slug}",
            repository=f"acme/app-{site.slug}",
            clone_url=f"https://github.com/acme/app-{site.slug}.git",
            env_vars=json.dumps(
                {"API_URL": "https://api.example.com", "TOKEN": secrets.token_hex()}
            ),
            webhook_secret=secrets.token_hex(),
        )
        for site in all_sites
        if site.pk not in projects
    ]
    Project.objects.bulk_create(new_projects, batch_size=500)
    projects = {p.site_id: p for p in Project.objects.filter(team=team)}
    rows = []
    for n in range(start, deployments):
        site = all_sites[n % len(all_sites)]
        rows.append(
            Deployment(
                site=site,
                author=user,
                project=projects[site.pk],
                source=Deployment.Source.GIT,
                status=Deployment.Status.SUCCESS,
                branch=("main", "develop", f"feature/item-{n % 97}")[n % 3],
                commit_hash=secrets.token_hex(20),
                commit_message=f"Change number {n}",
                commit_author="Bench",
            )
        )
    Deployment.objects.bulk_create(rows, batch_size=1000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", default="health,search,api")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    only = set(args.only.split(","))

    dropper = None
    database_url = args.database_url
    if not database_url:
        import psycopg

        name = f"berth_bench_panel_{os.getpid()}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        database_url = f"postgres://postgres@127.0.0.1:5432/{name}"

        def dropper():
            from django.db import connections

            connections.close_all()
            with psycopg.connect(
                "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True
            ) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    os.environ["RATE_LIMIT_GENERAL"] = "100000000/min"
    try:
        _env.setup("panel", database_url=database_url, redis_url=args.redis_url)
        run(args, only)
    finally:
        if dropper:
            dropper()


def run(args, only: set[str]) -> None:
    from django.conf import settings

    settings.ROOT_URLCONF = hello_urls()
    settings.ALLOWED_HOSTS = ["*"]
    from accounts import services as accounts

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    user = _env.owner()
    issued = accounts.token_issue(user=user)
    driver = Driver({"Authorization": f"Bearer {issued.access}"})
    n = args.requests

    def floor() -> dict:
        return driver.measure(HELLO_PATH, n)

    def line(label: str, figure: dict, base: dict) -> None:
        print(
            f"{label:<44} {figure['cpu_us']:>9.0f} µs CPU/req  p50 {figure['p50_ms']:>7.2f} ms"
            f"  ratio {figure['cpu_us'] / base['cpu_us']:>5.2f}× the floor"
        )

    if "health" in only:
        base = floor()
        line("hello-world floor", base, base)
        line("/health", driver.measure("/health", n), base)

    if "search" in only or "api" in only:
        no_match = "/api/deployments?search=zqxjnomatch&page=1&limit=10"
        seed(user, sites=100, deployments=100)
        small = driver.measure(no_match, n)
        seed(user, sites=1000, deployments=10_000, start=100)
        large = driver.measure(no_match, n)
        if "search" in only:
            print(
                f"search, no match, 100 deployments:    p50 {small['p50_ms']:.2f} ms"
                f"  ({small['cpu_us']:.0f} µs CPU/req)"
            )
            print(
                f"search, no match, 10,000 deployments: p50 {large['p50_ms']:.2f} ms"
                f"  ({large['cpu_us']:.0f} µs CPU/req)"
            )
            print(
                f"search ratio 10,000 / 100: {large['p50_ms'] / small['p50_ms']:.2f}× p50 wall"
                f" (target ≤ 1.5)"
            )
        if "api" in only:
            base = floor()
            line("hello-world floor", base, base)
            line(
                "/api/deployments?page=1&limit=10 (10,000)",
                driver.measure("/api/deployments?page=1&limit=10", n),
                base,
            )


if __name__ == "__main__":
    main()
