"""``manage.py edge_sync``: render the nginx edge config and materialise live deployments."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from hosting.serving import changes
from hosting.serving.edge import (
    FULL_SYNC_AFTER_SWITCH,
    EdgeError,
    edge_config_path,
    edge_switch,
    edge_sync,
)


class Command(BaseCommand):
    help = "Bring the nginx edge up to date (trees, symlinks, config; reload when needed)."

    def add_arguments(self, parser):
        parser.add_argument("--no-reload", action="store_true", help="Write, never reload.")
        parser.add_argument(
            "--watch",
            action="store_true",
            help="Keep running: follow the serving change feed (a switched deployment is a "
            "symlink swap, other changes a sync) and sync every EDGE_SYNC_INTERVAL seconds. "
            "For edge hosts that run no Celery worker.",
        )

    def handle(self, no_reload, watch, **options):
        from django.conf import settings

        try:
            self._sync(not no_reload)
            if watch:
                self._watch(not no_reload, settings.EDGE_SYNC_INTERVAL)
        except EdgeError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            return

    def _watch(self, reload: bool, interval: float) -> None:
        """Follow the change feed: with Redis, a blocking read wakes at once on a change (a
        push); without, the feed file is read every SERVING_CHECK_INTERVAL_MS. A site whose
        live deployment switched gets its symlink swapped (``edge_switch``); anything else,
        and every ``interval`` seconds, a full sync, which also catches up on what a lost
        entry missed. After a switch, the full sync (the new deployment's own address,
        pruning) follows once the feed has been quiet for ``FULL_SYNC_AFTER_SWITCH`` s."""
        watcher = changes.Watcher()
        watcher.poll()
        last = time.monotonic()
        owed: float | None = None  # when the full sync owed after a switch is due
        while True:
            now = time.monotonic()
            due = min(last + interval, owed or float("inf"))
            block = min(1.0, due - now)
            if watcher.pushes and now >= watcher.retry_at and block > 0:
                changed = watcher.poll(block=block)
            else:
                if block > 0:
                    time.sleep(min(watcher.interval, block))
                changed = watcher.poll()
            full = False
            for site_id in changed:
                if site_id != changes.EVERYTHING and self._switch(site_id):
                    owed = time.monotonic() + FULL_SYNC_AFTER_SWITCH
                else:
                    full = True
            now = time.monotonic()
            if full or now >= last + interval or (owed is not None and now >= owed):
                self._sync(reload)
                last, owed = now, None

    def _switch(self, site_id: str) -> bool:
        try:
            return edge_switch(site_id)
        except Exception as exc:  # a full sync follows, and reports what is wrong
            self.stderr.write(f"Edge: switching {site_id} failed ({exc}); syncing everything")
            return False

    def _sync(self, reload: bool) -> None:
        result = edge_sync(reload=reload)
        self.stdout.write(
            f"Edge: {result.trees_built} trees built, {result.links_swapped} switched, "
            f"config {'changed' if result.config_changed else 'unchanged'} ({edge_config_path()}), "
            f"{'reloaded' if result.reloaded else 'not reloaded'}, {result.pruned} pruned."
        )
        for problem in result.problems:
            self.stderr.write(f"  {problem}")
