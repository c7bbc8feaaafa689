#!/bin/sh
# The WordPress host of the full stack: Berth's supervisord, which runs each WordPress site's
# php-fpm pool. Workers add, start, stop and remove the pools through its socket in the shared
# SUPERVISOR_DIR; the site folders and the pools' sockets live in the shared WORDPRESS_ROOT,
# where workers provision and the edge's nginx passes PHP requests. Pools configured before a
# restart start again with it.
set -eu
: "${SUPERVISOR_DIR:?}" "${WORDPRESS_ROOT:?}"
mkdir -p "$WORDPRESS_ROOT"
python - <<'PY'
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlpanel.settings")
django.setup()
from django.conf import settings  # noqa: E402

from controlpanel.supervision import Supervisor  # noqa: E402

Supervisor(settings.SUPERVISOR_DIR).write_config()
PY
rm -f "$SUPERVISOR_DIR/supervisor.sock"
exec python -m supervisor.supervisord -n -c "$SUPERVISOR_DIR/supervisord.conf"
