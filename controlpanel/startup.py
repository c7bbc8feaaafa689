"""The embedded default's start (``scripts/run.sh``): straight to supervisord when prepared.

``python -m controlpanel.startup --port 8000`` reads the settings only (a fifth of a Django
start-up). When the installation is prepared and nothing changed since
(controlpanel/readiness.py), it writes supervisord's configuration and execs supervisord at once, as
``manage.py serve`` would; otherwise it execs ``manage.py serve --prepare``, which migrates,
makes sure an operator account exists, collects static files and records that it did.
"""

from __future__ import annotations

import argparse
import os
import sys

from django.conf import settings

from controlpanel import readiness
from controlpanel.management.commands.serve import CONCURRENCY, Command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlpanel.settings")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings.VAR_DIR  # noqa: B018 - configures the settings before the checks below
    server = os.environ.get("BERTH_ASGI_SERVER", "uvicorn")
    if server in ("uvicorn", "daphne") and readiness.fresh():  # else serve says what is wrong
        Command().launch(args.host, args.port, server, no_worker=False, concurrency=CONCURRENCY)
    manage = os.path.join(settings.BASE_DIR, "manage.py")
    command = [sys.executable, manage, "serve", "--prepare", "--host", args.host]
    os.execv(sys.executable, [*command, "--port", str(args.port)])  # noqa: S606


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl+C before anything started
        raise SystemExit(130) from None
