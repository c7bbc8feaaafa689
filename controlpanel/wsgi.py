"""WSGI entry point: the panel's HTTP under gunicorn in production (docs/architecture.md,
"Processes")."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlpanel.settings")
application = get_wsgi_application()
