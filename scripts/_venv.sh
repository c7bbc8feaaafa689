# Sourced by run.sh and test.sh: make (or reuse) the virtualenv and install the lock file of the
# requirements (requirements.txt -> requirements.lock: every transitive dependency pinned with
# hashes; scripts/lock.sh regenerates it) when it changed since the last install.
# BERTH_VENV picks another virtualenv.
VENV="${BERTH_VENV:-.venv}"
REQUIREMENTS="${BERTH_REQUIREMENTS:-requirements.txt}"
LOCK="${REQUIREMENTS%.txt}.lock"
if [ ! -x "$VENV/bin/python" ]; then
  PY="$(command -v python3.11 || command -v python3)"
  "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || { echo "Berth needs Python 3.11 (found $("$PY" --version))." >&2; exit 1; }
  echo "Creating the virtualenv in $VENV ..."
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.berth-$(basename "$LOCK").sha256"
digest="$(sha256sum "$LOCK" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  echo "Installing $LOCK ..."
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r "$LOCK"
  echo "$digest" > "$stamp"
  if [ "$LOCK" = requirements-dev.lock ]; then
    # The development lock holds the runtime lock's pins (a test checks it): both are installed.
    sha256sum requirements.lock | cut -d' ' -f1 > "$VENV/.berth-requirements.lock.sha256"
  fi
fi
export PATH="$(cd "$VENV" && pwd)/bin:$PATH"
