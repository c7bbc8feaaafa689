#!/usr/bin/env bash
# Run Berth's tests. With DATABASE_URL / REDIS_URL set they run against PostgreSQL and Redis
# (as CI does); without, against SQLite and in-process fallbacks, skipping service-only tests.
# Extra arguments go to pytest, e.g. scripts/test.sh accounts -k login
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH_REQUIREMENTS=requirements-dev.txt source scripts/_venv.sh
export BERTH_READ_DOTENV=0
exec python -m pytest "$@"
