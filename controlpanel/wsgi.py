"""WSGI entry point: the panel's HTTP under gunicorn in production (docs/architecture.md,
"Processes")."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlpanel.settings")
application = get_wsgi_application()

from monitoring.heartbeats import start_server_heartbeats  # noqa: E402 (needs Django set up)

start_server_heartbeats("web")  # with SERVER_HEARTBEATS: this host's samples (docs/monitoring.md)
