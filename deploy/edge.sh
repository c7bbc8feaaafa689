#!/bin/sh
# The edge container: nginx serving every live site (and proxying the panel), kept in sync by
# edge_sync --watch (with EDGE_WATCHER) following the change feed, and a Celery worker consuming
# the edge queue (periodic syncs, bandwidth), which render the config and reload this nginx.
set -eu
: "${EDGE_ROOT:?}" "${EDGE_LISTEN:=8080}"
mkdir -p "$EDGE_ROOT/nginx/conf.d" "$EDGE_ROOT/logs"
python - <<'PY'
import os
import string
from urllib.parse import urlsplit

template = open(os.environ.get("PANEL_CONF", "/app/deploy/nginx/panel.conf")).read()
host = urlsplit(os.environ.get("PANEL_URL", "http://localhost")).hostname or "localhost"
conf = string.Template(template).safe_substitute(
    PANEL_HOST=host, EDGE_LISTEN=os.environ.get("EDGE_LISTEN", "8080")
)
with open(os.path.join(os.environ["EDGE_ROOT"], "nginx", "conf.d", "panel.conf"), "w") as out:
    out.write(conf)
PY
python manage.py edge_sync --no-reload
nginx -p "$EDGE_ROOT" -c "$EDGE_ROOT/nginx/nginx.conf"
case "${EDGE_WATCHER:-0}" in
1 | true | yes | on)
    # Follows the change feed: a switched deployment is one symlink swap, at once.
    (while :; do python manage.py edge_sync --watch || true; sleep 2; done) &
    ;;
esac
exec celery -A controlpanel worker -Q "${EDGE_QUEUE:-edge}" --concurrency=1 --loglevel=INFO
