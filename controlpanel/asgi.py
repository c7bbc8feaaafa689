"""ASGI entry point (daphne): HTTP to Django, WebSockets to Channels consumers.

Each app lists its WebSocket routes in ``<app>/routing.py`` as ``websocket_urlpatterns``.
Connections are authenticated by session cookie or ``?token=`` (one look-up on the database
pool, accounts.authentication) and checked against ALLOWED_HOSTS for their Origin.
"""

from __future__ import annotations

import os
from importlib import import_module

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlpanel.settings")
django.setup(set_prefix=False)  # as get_asgi_application does, before the apps' imports

from hosting.files.uploadtemp import BodySpooledASGIHandler  # noqa: E402

# Django's ASGI handler, except that a body spooled to a full disk answers 507.
django_asgi_app = BodySpooledASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.apps import apps  # noqa: E402

from accounts.authentication import WebSocketAuthMiddleware  # noqa: E402
from monitoring.heartbeats import start_server_heartbeats  # noqa: E402


def websocket_urlpatterns() -> list:
    patterns: list = []
    for config in apps.get_app_configs():
        try:
            routing = import_module(f"{config.name}.routing")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.routing":
                raise
            continue
        patterns.extend(getattr(routing, "websocket_urlpatterns", []))
    return patterns


def http_application():
    """Django, preceded by any host-routed ASGI apps (the hosting app's site server)."""
    app = django_asgi_app
    for config in apps.get_app_configs():
        wrap = getattr(config, "wrap_http_application", None)
        if wrap is not None:
            app = wrap(app)
    return app


application = ProtocolTypeRouter(
    {
        "http": http_application(),
        "websocket": AllowedHostsOriginValidator(
            WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns()))
        ),
    }
)

start_server_heartbeats("web")  # with SERVER_HEARTBEATS: this host's samples (docs/monitoring.md)
