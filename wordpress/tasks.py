"""Celery entry points of WordPress sites: thin, taking primary keys, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from controlpanel.celery import app
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


@shared_task(name="wordpress.tasks.core_update", acks_late=True, reject_on_worker_lost=True)
def core_update(site_id: str, by_id: str | None = None) -> None:
    """Back the site up, then update its WordPress core to the server's package."""
    services.wordpress_core_update_run(site_id=site_id, by_id=by_id)


@shared_task(name="wordpress.tasks.reconcile_pool", acks_late=True)
def reconcile_pool(site_id: str) -> None:
    """Start or stop the site's pool to match its status and its team's suspension."""
    services.wordpress_pool_reconcile(site_id=site_id)


@shared_task(name="wordpress.tasks.storage_recount")
def storage_recount() -> None:
    """Count every WordPress site's files and database into its storage used."""
    services.wordpress_storage_recount_all()


app.conf.beat_schedule["wordpress-storage-recount"] = {
    "task": "wordpress.tasks.storage_recount",
    "schedule": 3600,
}
