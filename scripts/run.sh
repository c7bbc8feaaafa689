#!/usr/bin/env bash
# Run Berth on http://localhost:8000: the web server plus a Celery worker (with beat), embedded
# by default (SQLite and files under var/, no other services). Set DATABASE_URL / REDIS_URL /
# others (see README) to use the full stack. PORT changes the port.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
# Straight to supervisord when nothing needs preparing; otherwise `manage.py serve --prepare`
# migrates and makes sure an operator account exists first (controlpanel/startup.py).
exec python -m controlpanel.startup --port "${PORT:-8000}"
