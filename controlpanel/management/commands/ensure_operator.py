"""Make sure someone can run the panel: create the operator account once.

From ``BERTH_ADMIN_EMAIL`` and ``BERTH_ADMIN_PASSWORD`` when set; otherwise, on a terminal, ask
once; otherwise say how to create one.
"""

from __future__ import annotations

import os
import sys

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.services import preferences_get


class Command(BaseCommand):
    help = "Create the first operator account if there is none."

    def handle(self, **options):
        User = get_user_model()
        email = os.environ.get("BERTH_ADMIN_EMAIL", "").strip()
        password = os.environ.get("BERTH_ADMIN_PASSWORD", "")
        if email and password:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_superuser(
                    email=email, password=password, name="Operator"
                )
                preferences_get(user=user)
                self.stdout.write(f"Created the operator account {email}.")
            return
        if User.objects.filter(is_superuser=True).exists():
            return
        if sys.stdin.isatty() and os.environ.get("BERTH_NO_PROMPT") != "1":
            self.stdout.write("No operator account yet. Create one now (Ctrl+C to skip):")
            try:
                call_command("createsuperuser")
            except KeyboardInterrupt:
                self.stdout.write("\nSkipped.")
            return
        self.stdout.write(
            "No operator account yet: sign up in the browser, or create one with\n"
            "  BERTH_ADMIN_EMAIL=you@example.com BERTH_ADMIN_PASSWORD=... scripts/run.sh\n"
            "or  python manage.py createsuperuser"
        )
