"""Celery entry points of WordPress sites: thin, taking primary keys, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from wordpress import services


@shared_task(name="wordpress.tasks.provision", acks_late=True, reject_on_worker_lost=True)
def provision(site_id: str) -> None:
    """Provision a WordPress site (its row is the job record)."""
    services.wordpress_provision(site_id=site_id)


@shared_task(
    name="wordpress.tasks.teardown",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=20,
)
def teardown(site_id: str) -> None:
    """Remove what a deleted WordPress site left (retried until everything is gone)."""
    services.wordpress_teardown(site_id=site_id)
