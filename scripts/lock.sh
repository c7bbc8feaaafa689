#!/usr/bin/env bash
# Regenerate requirements.lock and requirements-dev.lock: every transitive dependency pinned,
# with hashes, so a fresh machine installs exactly what CI tested. Run it after changing
# requirements.txt or requirements-dev.txt and commit the lock files with that change.
# Pins already in the lock files are kept; `scripts/lock.sh --upgrade-package NAME` moves one.
# uv's resolver does this in seconds (pip-tools' pip-compile took minutes here).
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${BERTH_LOCK_TOOLS:-var/lock-tools}"
if [ ! -x "$tools/bin/uv" ]; then
  python3.11 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check uv==0.13.8
fi
compile=("$tools/bin/uv" pip compile --quiet --python-version 3.11 --generate-hashes
  --custom-compile-command scripts/lock.sh "$@")
"${compile[@]}" -o requirements.lock requirements.txt
# The development lock is held to the runtime lock, so both install the same versions.
"${compile[@]}" -c requirements.lock -o requirements-dev.lock requirements-dev.txt
for lock in requirements.lock requirements-dev.lock; do
  {
    echo "# Every transitive dependency of ${lock%.lock}.txt, pinned with hashes."
    echo "# scripts/_venv.sh installs it. After changing requirements*.txt: scripts/lock.sh"
    grep -v '^# \(Every transitive\|scripts/_venv.sh installs\)' "$lock"
  } > "$lock.tmp"
  mv "$lock.tmp" "$lock"
done
