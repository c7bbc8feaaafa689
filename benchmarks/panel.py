"""Panel request cost against a hello-world floor, measured in one run on PostgreSQL + Redis.

Run: python benchmarks/panel.py [--server gunicorn|inprocess] [--only health,search,api,pages]
[--duration 5] [--requests 300] [--database-url postgres://...]
[--redis-url redis://127.0.0.1:6379/12] [--port N]

Without ``--database-url`` a throwaway PostgreSQL database is created on 127.0.0.1 and dropped
afterwards. Each figure is the server's CPU time per request (steadier than wall time on a
shared machine), printed as a ratio to a hello-world view under the same middleware, measured
in the same run:

- ``--server gunicorn`` (the default; the goals are stated for it): gunicorn with 2 sync
  workers serves the panel (its URLs plus the hello-world view) and wrk drives it with two
  connections; the CPU is the gunicorn processes' own, read from /proc. Gunicorn's HTTP
  handling is in every figure, the floor's included.
- ``--server inprocess``: Django's WSGI handler called in this process, without any HTTP
  parsing (the whole middleware stack, as gunicorn calls it), so the floor is much lower and
  the ratios are larger than the same work measured under gunicorn. Use it with a profiler.

Figures:
- health: ``GET /health`` (database and Redis pings).
- search: ``GET /api/deployments?search=<no match>`` p50 wall time with 100 and then 10,000
  deployments of one user (1,000 sites), in-process; the ratio is the target (flat: ≤ 1.5).
- api: the API reads with a bearer token over 1,000 sites and 10,000 deployments: the
  deployments list, the sites list, a deployment's detail and its logs, the dashboard stats.
- pages: the dashboard, deployments and sites pages with a browser session.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import subprocess
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


def wsgi():
    """gunicorn's application factory (``benchmarks.panel:wsgi()``): the panel with the
    hello-world view, in the environment the benchmark set up."""
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = hello_urls()
    settings.ALLOWED_HOSTS = ["*"]
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def cpu_seconds(pid: int) -> float:
    """CPU time used by a process and its direct children (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


class GunicornDriver:
    """gunicorn with 2 sync workers on a free port, driven by wrk (2 connections)."""

    def __init__(self, headers: dict[str, str], duration: float, port: int = 0):
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))
            self.port = sock.getsockname()[1]
        self.headers, self.duration = headers, duration
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(Path(__file__).resolve().parent.parent),
                "--log-level",
                "warning",
                "benchmarks.panel:wsgi()",
            ],
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.process.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.1)
        self.close()
        raise SystemExit("gunicorn did not listen within 60 s")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wrk(self, url: str, duration: float) -> dict:
        import re
        import subprocess

        command = ["wrk", "-t1", "-c2", f"-d{duration}s", "--latency"]
        for name, value in self.headers.items():
            command += ["-H", f"{name}: {value}"]
        before = cpu_seconds(self.process.pid)
        out = subprocess.run(
            [*command, f"http://127.0.0.1:{self.port}{url}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        used = cpu_seconds(self.process.pid) - before
        failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if failed:
            raise SystemExit(f"{url}: {failed.group(1)} answers other than 2xx:\n{out}")
        count = int(re.search(r"(\d+) requests in", out).group(1))
        p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
        return {"cpu_us": used * 1e6 / max(count, 1), "p50_ms": float(p50.group(1)) * scale}

    def measure(self, url: str, requests: int) -> dict:
        code, body = self.get(url)
        if code != 200:
            raise SystemExit(f"{url} answered {code}: {body[:300]!r}")
        self.wrk(url, 1)  # warm up both workers
        return self.wrk(url, self.duration)

    def get(self, url: str) -> tuple[int, bytes]:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{url}", headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


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
    parser.add_argument("--only", default="health,search,api,pages")
    parser.add_argument("--server", choices=["gunicorn", "inprocess"], default="gunicorn")
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per figure")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument(
        "--port", type=int, default=0, help="gunicorn's first port (default: any free one)"
    )
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
    _env.stop_on_signals()
    try:
        _env.setup("panel", database_url=database_url, redis_url=args.redis_url)
        run(args, only)
    finally:
        if dropper:
            dropper()


def seed_logs(lines: int) -> str:
    """``lines`` log lines for the newest deployment; its id."""
    from django.utils import timezone

    from deployments.models import Deployment, LogLine

    deployment = Deployment.objects.order_by("-created_at").first()
    now = timezone.now()
    LogLine.objects.bulk_create(
        [
            LogLine(deployment=deployment, seq=n, message=f"step {n}: done", timestamp=now)
            for n in range(1, lines + 1)
        ],
        batch_size=1000,
    )
    return str(deployment.pk)


def browser_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def run(args, only: set[str]) -> None:
    from django.conf import settings

    settings.ROOT_URLCONF = hello_urls()
    settings.ALLOWED_HOSTS = ["*"]
    from accounts import services as accounts

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    user = _env.owner()
    issued = accounts.token_issue(user=user)
    bearer = {"Authorization": f"Bearer {issued.access}"}
    n = args.requests
    drivers = []

    def driver(headers):
        if args.server == "inprocess":
            return Driver(headers)
        port = args.port + len(drivers) if args.port else 0
        drivers.append(GunicornDriver(headers, args.duration, port))
        return drivers[-1]

    def line(label: str, figure: dict, base: dict) -> None:
        print(
            f"{label:<44} {figure['cpu_us']:>9.0f} µs CPU/req  p50 {figure['p50_ms']:>7.2f} ms"
            f"  ratio {figure['cpu_us'] / base['cpu_us']:>5.2f}× the floor"
        )

    def figures(target, urls: list[str]) -> None:
        base = target.measure(HELLO_PATH, n)
        line("hello-world floor", base, base)
        for url in urls:
            line(url, target.measure(url, n), base)

    if "search" in only or "api" in only or "pages" in only:
        no_match = "/api/deployments?search=zqxjnomatch&page=1&limit=10"
        inprocess = Driver(bearer)
        seed(user, sites=100, deployments=100)
        small = inprocess.measure(no_match, n)
        seed(user, sites=1000, deployments=10_000, start=100)
        large = inprocess.measure(no_match, n)
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
    try:
        print(f"server: {args.server}")
        if "health" in only:
            print("-- /health (goal ≤ 2×)")
            figures(driver({}), ["/health"])
        if "api" in only:
            deployment = seed_logs(2000)
            print("-- API reads, 1,000 sites and 10,000 deployments (goal ≤ 4×)")
            figures(
                driver(bearer),
                [
                    "/api/deployments?page=1&limit=10",
                    "/api/sites?page=1&limit=10",
                    f"/api/deployments/{deployment}",
                    f"/api/deployments/{deployment}/logs?page=1&limit=100",
                    "/api/dashboard/stats",
                ],
            )
        if "pages" in only:
            from django.core.management import call_command

            call_command("collectstatic", interactive=False, verbosity=0)
            print("-- pages with a browser session (goal ≤ 8×)")
            figures(
                driver({"Cookie": browser_cookie(user)}),
                ["/dashboard/", "/deployments/", "/sites/"],
            )
    finally:
        for each in drivers:
            each.close()


if __name__ == "__main__":
    main()
