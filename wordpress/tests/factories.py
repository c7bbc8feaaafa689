"""WordPress site rows without provisioning (and outside the plan's limits), for pages and
permission tests; the provisioning tests make real ones."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from hosting.models import Site
from hosting.services import slug_suggest
from teams.services import acting_team
from wordpress.layout import layout_for
from wordpress.models import WordPressSite

STATES = {
    "online": (Site.Status.ONLINE, WordPressSite.State.DONE, ""),
    "provisioning": (Site.Status.PROVISIONING, WordPressSite.State.RUNNING, ""),
    "error": (
        Site.Status.ERROR,
        WordPressSite.State.FAILED,
        "MariaDB at 127.0.0.1:3306 does not answer: Connection refused",
    ),
}


def wordpress_site_make(*, owner, name: str, slug: str = "", state: str = "online", team=None):
    status, job_state, error = STATES[state]
    site = Site.objects.create(
        team=team or acting_team(owner),
        owner=owner,
        name=name,
        slug=slug or slug_suggest(name),
        kind=Site.Kind.WORDPRESS,
        status=status,
        status_message=error,
        storage_limit=settings.SITE_STORAGE_LIMIT,
        bandwidth_limit=settings.SITE_BANDWIDTH_LIMIT,
    )
    layout = layout_for(site.pk)
    WordPressSite.objects.create(
        site=site,
        title=name,
        admin_user="owner",
        admin_email="owner@example.com",
        db_name=layout.db_name,
        db_user=layout.db_user,
        db_password="not-a-real-password",
        memory_limit_mb=128,
        upload_limit_mb=32,
        max_execution_seconds=30,
        version="6.1.9" if job_state == WordPressSite.State.DONE else "",
        state=job_state,
        error=error,
        finished_at=timezone.now() if job_state != WordPressSite.State.RUNNING else None,
    )
    site.refresh_from_db()
    return site
