"""``manage.py restore [SNAPSHOT]``: restore Berth from one of its own backups into an empty
database and empty folders (docs/disaster-recovery.md). ``--list`` shows the backups;
``--secrets-to FILE`` writes a backup's encryption keys out, to set in the environment first."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backups.panel import PanelBackupError, panel_backups, repository_location
from backups.panel.restore import panel_restore, panel_secrets


class Command(BaseCommand):
    help = "Restore Berth from one of its own backups into an empty database and folders."

    def add_arguments(self, parser):
        parser.add_argument("snapshot", nargs="?", default="latest", help="Default: latest.")
        parser.add_argument(
            "--from",
            dest="source",
            default="",
            metavar="REPOSITORY",
            help="A folder or s3:<endpoint>/<bucket>/<path> (default PANEL_BACKUP_REPOSITORY).",
        )
        parser.add_argument("--list", action="store_true", help="List the backups of Berth.")
        parser.add_argument(
            "--secrets-to",
            metavar="FILE",
            help="Only write the backup's encryption keys to FILE (mode 600) and stop.",
        )

    def handle(self, *args, snapshot, source, **options):
        location = repository_location(source)
        try:
            if options["list"]:
                for backup in panel_backups(location=location):
                    self.stdout.write(
                        f"{backup['id']}  {backup['time'][:19].replace('T', ' ')}  "
                        f"{backup['host']}  {backup['files']} files"
                    )
                return
            if options["secrets_to"]:
                target = Path(options["secrets_to"])
                panel_secrets(location=location, snapshot=snapshot, target=target)
                self.stdout.write(
                    f"The backup's encryption keys are in {target} (SECRET: keep it safe). Set "
                    "them in Berth's environment, then run `manage.py restore` again."
                )
                return
            done = panel_restore(location=location, snapshot=snapshot)
        except PanelBackupError as exc:
            raise CommandError(f"Restore failed: {exc}") from exc
        counts = ", ".join(f"{n} {what}" for what, n in done["counts"].items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored Berth from backup {done['id']} (made {done['created'][:19]}): {counts}; "
                f"{done['files']} stored files; {done['secrets_read']} stored secrets read back."
            )
        )
        if done["secret_key_written"]:
            written = done["secret_key_written"]
            self.stdout.write(f"The backup's SECRET_KEY was written to {written}.")
