"""A deleted WordPress site takes its pool, database, Unix user and files with it; a change of
how a WordPress site is served (its team suspended or restored, say) starts or stops its pool."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from controlpanel.enqueue import enqueue_on_commit
from hosting.hostnames import hostnames_changed
from hosting.models import Site
from wordpress.services import RECONCILE_TASK, wordpress_site_deleted


@receiver(post_delete, sender=Site, dispatch_uid="wordpress-site-deleted")
def _site_deleted(sender, instance: Site, **kwargs) -> None:
    if instance.kind != Site.Kind.WORDPRESS:
        return
    site_id = instance.pk
    transaction.on_commit(lambda: wordpress_site_deleted(site_id=site_id))


@receiver(hostnames_changed, dispatch_uid="wordpress-serving-changed")
def _serving_changed(sender, site_id=None, **kwargs) -> None:
    if site_id is None:
        return
    if Site.objects.filter(pk=site_id, kind=Site.Kind.WORDPRESS).exists():
        enqueue_on_commit(RECONCILE_TASK, str(site_id))
