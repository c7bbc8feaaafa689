"""``manage.py collect_blobs``: delete manifests and blobs no deployment references."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from deployments.services import blobs_collect_garbage


class Command(BaseCommand):
    help = "Delete unreferenced manifests and blobs older than the grace period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=settings.BLOB_GC_GRACE_HOURS,
            help="Keep anything younger than this (default BLOB_GC_GRACE_HOURS).",
        )

    def handle(self, grace_hours, **options):
        manifests, blobs = blobs_collect_garbage(grace=timedelta(hours=grace_hours))
        self.stdout.write(f"Deleted {manifests} manifests and {blobs} blobs.")
