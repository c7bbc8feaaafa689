"""A deleted WordPress site takes its pool, database, Unix user and files with it."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from hosting.models import Site
from wordpress.services import wordpress_site_deleted


@receiver(post_delete, sender=Site, dispatch_uid="wordpress-site-deleted")
def _site_deleted(sender, instance: Site, **kwargs) -> None:
    if instance.kind != Site.Kind.WORDPRESS:
        return
    site_id = instance.pk
    transaction.on_commit(lambda: wordpress_site_deleted(site_id=site_id))
