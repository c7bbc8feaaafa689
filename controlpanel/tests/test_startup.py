"""What a fresh Berth process loads: libraries only some features use stay out of memory until
one of them runs (each costs megabytes in every web server, worker and ``manage.py`` command).

Each test starts a new Python process in the embedded default (SQLite, no Redis, local files)
and lists the modules it holds after start-up; benchmarks/startup.py measures the memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

CHILD = """
import json, sys
import django
django.setup()
if sys.argv[1] == "asgi":
    import controlpanel.asgi
if sys.argv[1] == "all":
    from django.urls import get_resolver
    get_resolver().url_patterns
    from controlpanel.celery import app
    app.loader.import_default_modules()
print(json.dumps(sorted(sys.modules)))
"""

# Loaded on first use: certificates (ACME), DNS checks, WordPress databases, S3 storage,
# Stripe, and Redis (only when REDIS_URL is set).
FEATURE_LIBRARIES = [
    "acme",
    "josepy",
    "OpenSSL",
    "dns",
    "pymysql",
    "boto3",
    "botocore",
    "stripe",
    "redis",
    "channels_redis",
]
# Not needed by django.setup() alone (the URLconf loads them: the API views' schema
# declarations need drf-spectacular's machinery, allauth's passkeys need cryptography).
SETUP_ONLY = [
    "drf_spectacular.openapi",
    "drf_spectacular.plumbing",
    "rest_framework.test",
    "cryptography",
]


def loaded_modules(tmp_path: Path, stage: str) -> set[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "S3_BUCKET", "STORAGE_URL", "STRIPE_SECRET_KEY"}
    }
    env.update(
        BERTH_READ_DOTENV="0",
        BERTH_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="controlpanel.settings",
        PYTHONPATH=str(ROOT),
    )
    out = subprocess.run(
        [sys.executable, "-c", CHILD, stage],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def packages_among(modules: set[str], wanted: list[str]) -> list[str]:
    return sorted(
        name for name in wanted if any(m == name or m.startswith(f"{name}.") for m in modules)
    )


def test_setup_loads_no_feature_library_nor_schema_machinery(tmp_path):
    modules = loaded_modules(tmp_path, "setup")
    assert packages_among(modules, FEATURE_LIBRARIES + SETUP_ONLY) == []


def test_asgi_application_loads_no_api_before_its_first_http_request(tmp_path):
    # A WebSocket-only server (daphne in the full stack) never needs the URLconf or DRF.
    modules = loaded_modules(tmp_path, "asgi")
    assert "deployments.routing" in modules  # the WebSocket routes were really loaded
    assert packages_among(modules, ["controlpanel.urls", "rest_framework.serializers"]) == []
    assert packages_among(modules, FEATURE_LIBRARIES + SETUP_ONLY) == []


def test_urls_and_worker_tasks_load_no_feature_library(tmp_path):
    modules = loaded_modules(tmp_path, "all")
    assert "deployments.tasks" in modules  # the worker's tasks were really loaded
    assert packages_among(modules, FEATURE_LIBRARIES) == []
