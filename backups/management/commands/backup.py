"""``manage.py backup``: back Berth itself up (database, file stores, local site-backup
repositories, encryption keys) into its own restic repository; ``--list`` and ``--check``
show and verify what is there. docs/disaster-recovery.md says how to restore."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from backups.panel import PanelBackupError, panel_backups, panel_check, repository_location
from backups.panel.backup import panel_backup


class Command(BaseCommand):
    help = "Back up Berth itself: database, file stores, site-backup repositories, keys."

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            default="",
            metavar="REPOSITORY",
            help="A folder or s3:<endpoint>/<bucket>/<path> (default PANEL_BACKUP_REPOSITORY).",
        )
        parser.add_argument("--list", action="store_true", help="List the backups of Berth.")
        parser.add_argument(
            "--check", action="store_true", help="Read every byte of the repository back."
        )
        parser.add_argument(
            "--keep-last", type=int, metavar="N", help="Then forget all but the newest N."
        )
        parser.add_argument(
            "--without-site-backups",
            action="store_true",
            help="Leave out the teams' local site-backup repositories.",
        )

    def handle(self, *args, **options):
        location = repository_location(options["to"])
        try:
            if options["list"]:
                return self._list(location)
            if options["check"]:
                panel_check(location=location)
                self.stdout.write(f"{location}: every pack read back, no errors.")
                return
            if options["keep_last"] is not None and options["keep_last"] < 1:
                raise CommandError("--keep-last is at least 1.")
            done = panel_backup(
                location=location,
                include_site_backups=not options["without_site_backups"],
                keep_last=options["keep_last"],
            )
        except PanelBackupError as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        counts = ", ".join(f"{n} {what}" for what, n in done["counts"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup {done['id']} of Berth in {location}: {done['files']} files, "
                f"{filesizeformat(done['bytes'])} ({filesizeformat(done['added'])} new); "
                f"{counts}. Checked."
            )
        )

    def _list(self, location: str) -> None:
        backups = panel_backups(location=location)
        if not backups:
            self.stdout.write(f"No backups of Berth in {location}.")
        for backup in backups:
            self.stdout.write(
                f"{backup['id']}  {backup['time'][:19].replace('T', ' ')}  {backup['host']}  "
                f"{backup['files']} files  {filesizeformat(backup['bytes'])}"
            )
