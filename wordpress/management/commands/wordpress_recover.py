"""``manage.py wordpress_recover``: after Berth was restored on a new machine, bring back every
WordPress site whose install is missing here: re-provision it and restore its newest
successful backup. docs/disaster-recovery.md says when to run it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wordpress.recovery import recoverable_sites, wordpress_recover
from wordpress.services import wordpress_problem


class Command(BaseCommand):
    help = (
        "Re-provision the WordPress sites whose install is missing on this machine and restore "
        "each one's newest successful backup into it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            metavar="SLUG",
            help="Only this site (its address's first label); repeat for more.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Also sites installed here: provision again and restore the newest backup "
            "over what they hold now.",
        )

    def handle(self, *args, **options):
        problem = wordpress_problem()
        if problem:
            raise CommandError(problem)
        try:
            sites = recoverable_sites(options["site"])
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        if not sites:
            self.stdout.write("No WordPress sites.")
            return
        failed = 0
        styles = {
            "restored": self.style.SUCCESS,
            "skipped": str,
            "empty": self.style.WARNING,
            "failed": self.style.ERROR,
        }
        for site in sites:
            self.stdout.write(f"{site.slug}: recovering ...")
            result = wordpress_recover(site=site, force=options["force"])
            failed += result.failed
            line = f"{site.slug}: {result.outcome.upper()}: {result.detail}"
            (self.stderr if result.failed else self.stdout).write(styles[result.outcome](line))
        if failed:
            raise CommandError(f"{failed} of {len(sites)} WordPress sites could not be recovered.")
        self.stdout.write(f"{len(sites)} WordPress sites checked.")
