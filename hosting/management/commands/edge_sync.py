"""``manage.py edge_sync``: render the nginx edge config and materialise live deployments."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from hosting.serving import changes
from hosting.serving.edge import EdgeError, edge_config_path, edge_sync


class Command(BaseCommand):
    help = "Bring the nginx edge up to date (trees, symlinks, config; reload when needed)."

    def add_arguments(self, parser):
        parser.add_argument("--no-reload", action="store_true", help="Write, never reload.")
        parser.add_argument(
            "--watch",
            action="store_true",
            help="Keep running: sync on every change (the serving change feed) and every "
            "EDGE_SYNC_INTERVAL seconds. For edge hosts that run no Celery worker.",
        )

    def handle(self, no_reload, watch, **options):
        from django.conf import settings

        try:
            self._sync(not no_reload)
            if not watch:
                return
            watcher = changes.Watcher(interval=settings.SERVING_CHECK_INTERVAL / 1000)
            watcher.poll()
            last = time.monotonic()
            while True:
                time.sleep(watcher.interval)
                now = time.monotonic()
                if watcher.poll(now) or now - last >= settings.EDGE_SYNC_INTERVAL:
                    self._sync(not no_reload)
                    last = now
        except EdgeError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            return

    def _sync(self, reload: bool) -> None:
        result = edge_sync(reload=reload)
        self.stdout.write(
            f"Edge: {result.trees_built} trees built, {result.links_swapped} switched, "
            f"config {'changed' if result.config_changed else 'unchanged'} ({edge_config_path()}), "
            f"{'reloaded' if result.reloaded else 'not reloaded'}, {result.pruned} pruned."
        )
        for problem in result.problems:
            self.stderr.write(f"  {problem}")
