#!/usr/bin/env bash
# Regenerate requirements.lock and requirements-dev.lock: every transitive dependency pinned,
# with hashes, so a fresh machine installs exactly what CI tested. Run it after changing
# requirements.txt or requirements-dev.txt and commit the lock files with that change.
# Pins already in the lock files are kept; `scripts/lock.sh --upgrade-package NAME` moves one.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${BERTH_PIP_TOOLS:-var/pip-tools}"
if [ ! -x "$tools/bin/pip-compile" ]; then
  python3.11 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check pip-tools==7.6.2
fi
export CUSTOM_COMPILE_COMMAND="scripts/lock.sh"
common=(--quiet --generate-hashes --allow-unsafe --strip-extras
  --no-emit-find-links --no-emit-index-url --no-emit-trusted-host "$@")
"$tools/bin/pip-compile" "${common[@]}" -o requirements.lock requirements.txt
# The development lock is held to the runtime lock, so both install the same versions.
"$tools/bin/pip-compile" "${common[@]}" -c requirements.lock -o requirements-dev.lock \
  requirements-dev.txt
for lock in requirements.lock requirements-dev.lock; do
  {
    echo "# Every transitive dependency of ${lock%.lock}.txt, pinned with hashes (scripts/_venv.sh installs it)."
    echo "# Regenerate after changing requirements.txt or requirements-dev.txt: scripts/lock.sh"
    cat "$lock"
  } > "$lock.tmp"
  mv "$lock.tmp" "$lock"
done
