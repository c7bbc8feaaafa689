"""Creating, provisioning, starting, stopping and deleting WordPress sites.

``wordpress_site_create`` makes the Site (status provisioning) and its job record and queues
``wordpress.tasks.provision``; ``wordpress_provision`` does the work, step by step and
idempotently: the database and its user, the Unix user, the folder with core and wp-content,
wp-config.php, the php-fpm pool under Berth's supervisor, then WordPress's own installer. A
failure removes everything made so far and leaves the site in ``error`` with the reason.
"""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from controlpanel.enqueue import enqueue_on_commit
from hosting.hostnames import hostnames_changed
from hosting.models import Site
from hosting.services import site_create, site_delete
from teams.permissions import SITE_MANAGE, job_refusal
from wordpress import mariadb, pools, system
from wordpress.layout import layout_for
from wordpress.login import LoginLink, login_key, login_link
from wordpress.models import WordPressSite

log = logging.getLogger(__name__)

PROVISION_TASK = "wordpress.tasks.provision"
TEARDOWN_TASK = "wordpress.tasks.teardown"
ADMIN_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,60}$")
MIN_PASSWORD = 10


class WordPressUnavailable(ValidationError):
    """WordPress cannot be provisioned on this installation (the message says what is missing)."""


def wordpress_problem() -> str | None:
    """None when this installation can run WordPress sites, else what is missing, in words."""
    try:
        down = mariadb.ping()
    except mariadb.MariaDBError as exc:
        down = str(exc)
    if down and not mariadb.configured():
        return (
            f"WordPress needs MariaDB. MARIADB_URL is not set and the local default "
            f"({mariadb.LOCAL_URL}) did not work: {down}. Install and start MariaDB there, "
            "or set MARIADB_URL to an account that may create databases and users."
        )
    if down:
        return f"WordPress needs MariaDB: {down}"
    if system.find_binary(settings.WORDPRESS_PHP_FPM) is None:
        return f"WordPress needs php-fpm ({settings.WORDPRESS_PHP_FPM}), which is not installed."
    if system.find_binary(settings.WORDPRESS_PHP) is None:
        return f"WordPress needs the PHP command line ({settings.WORDPRESS_PHP})."
    if not system.core_version():
        return f"WordPress core is not installed at {settings.WORDPRESS_CORE}."
    return pools.supervisor_problem()


def plan_limits(*, team) -> dict:
    """PHP limits of a team's WordPress sites. Billing plans will set them; until then the
    installation's defaults apply to every plan."""
    return {
        "memory_limit_mb": settings.WORDPRESS_MEMORY_LIMIT_MB,
        "upload_limit_mb": settings.WORDPRESS_UPLOAD_LIMIT_MB,
        "max_execution_seconds": settings.WORDPRESS_MAX_EXECUTION_SECONDS,
    }


def _validate_admin(*, title: str, admin_user: str, admin_email: str, admin_password: str):
    errors = {}
    if not title.strip():
        errors["title"] = ["Give the site a title."]
    if not ADMIN_USER.match(admin_user or ""):
        errors["admin_user"] = ["Use 1 to 60 letters, digits and . _ - @ for the admin user name."]
    try:
        validate_email(admin_email)
    except ValidationError:
        errors["admin_email"] = ["Enter the admin's email address."]
    if len(admin_password or "") < MIN_PASSWORD:
        errors["admin_password"] = [f"Use at least {MIN_PASSWORD} characters."]
    if errors:
        raise ValidationError(errors)


def wordpress_site_create(
    *,
    owner,
    team,
    name: str,
    slug: str = "",
    title: str = "",
    admin_user: str,
    admin_email: str,
    admin_password: str,
) -> Site:
    """Create a WordPress site (status provisioning) and queue its provisioning.

    Refused with the reason when this installation lacks MariaDB, php-fpm, core or the
    supervisor. The admin password is kept encrypted until WordPress's installer has hashed it.
    """
    title = (title or name or "").strip()[:200]
    _validate_admin(
        title=title, admin_user=admin_user, admin_email=admin_email, admin_password=admin_password
    )
    problem = wordpress_problem()
    if problem:
        raise WordPressUnavailable(problem)
    limits = plan_limits(team=team)
    with transaction.atomic():
        site = site_create(owner=owner, team=team, name=name, slug=slug, kind=Site.Kind.WORDPRESS)
        layout = layout_for(site.pk)
        job = WordPressSite.objects.create(
            site=site,
            title=title,
            admin_user=admin_user,
            admin_email=admin_email,
            admin_password=admin_password,
            db_name=layout.db_name,
            db_user=layout.db_user,
            db_password=secrets.token_urlsafe(24),
            unix_user=layout.unix_user if system.isolated() else "",
            **limits,
        )
        job.task_id = enqueue_on_commit(PROVISION_TASK, str(site.pk))
        WordPressSite.objects.filter(pk=site.pk).update(task_id=job.task_id)
    return site


def _site_status(site_id, status: str, message: str = "") -> None:
    Site.objects.filter(pk=site_id).update(
        status=status, status_message=message[:300], updated_at=timezone.now()
    )
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))


def wordpress_provision(*, site_id) -> WordPressSite | None:
    """Provision the site (the task's body). Claims the job (queued, or running after a worker
    died), runs every step, and ends ``done`` with the site online, or ``failed`` with the site
    in ``error``, the reason shown, and nothing left behind. Safe to run twice."""
    claimed = WordPressSite.objects.filter(
        pk=site_id, state__in=[WordPressSite.State.QUEUED, WordPressSite.State.RUNNING]
    ).update(state=WordPressSite.State.RUNNING, started_at=timezone.now(), error="")
    if not claimed:
        return None
    job = WordPressSite.objects.select_related("site__owner").get(pk=site_id)
    layout = layout_for(site_id)
    try:
        # Whoever asked for the site may have lost the right to while the job waited.
        refusal = job_refusal(job.site.owner, SITE_MANAGE, job.site)
        if refusal:
            raise PermissionError(refusal)
        version = _provision_steps(job, layout)
    except Exception as exc:  # any failure ends the job with its reason and cleans up
        reason = str(exc) or type(exc).__name__
        expected = (mariadb.MariaDBError, system.SiteSetupError, pools.PoolError, OSError)
        if not isinstance(exc, expected):
            log.exception("Provisioning WordPress site %s failed", site_id)
            reason = f"Unexpected error: {reason}"
        log.warning("Provisioning WordPress site %s failed: %s", site_id, reason)
        _teardown(layout, strict=False)
        WordPressSite.objects.filter(pk=site_id).update(
            state=WordPressSite.State.FAILED,
            error=reason,
            admin_password="",
            finished_at=timezone.now(),
        )
        _site_status(site_id, Site.Status.ERROR, reason)
        return WordPressSite.objects.filter(pk=site_id).first()
    if not Site.objects.filter(pk=site_id).exists():  # deleted while it was being provisioned
        _teardown(layout, strict=False)
        return None
    WordPressSite.objects.filter(pk=site_id).update(
        state=WordPressSite.State.DONE,
        version=version,
        admin_password="",
        finished_at=timezone.now(),
    )
    _site_status(site_id, Site.Status.ONLINE)
    return WordPressSite.objects.get(pk=site_id)


def _provision_steps(job: WordPressSite, layout) -> str:
    server = mariadb.server()
    mariadb.database_create(name=job.db_name, user=job.db_user, password=job.db_password)
    owner = system.owner_for(layout)
    system.files_create(layout, owner)
    system.wp_config_write(
        layout,
        owner,
        db_host=server.address,
        db_password=job.db_password,
        default_url=job.site.url,
        login_key=login_key(layout.site_id),
    )
    system.pool_config_write(
        layout,
        owner,
        memory_mb=job.memory_limit_mb,
        upload_mb=job.upload_limit_mb,
        max_seconds=job.max_execution_seconds,
    )
    pools.pool_start(layout)
    if not job.admin_password and job.version:
        return job.version  # installed before: the password is gone, nothing to install
    return system.wordpress_install(
        layout,
        owner,
        host=job.site.url.split("://", 1)[1],
        title=job.title,
        user=job.admin_user,
        email=job.admin_email,
        password=job.admin_password,
    )


def _teardown(layout, *, strict: bool) -> list[str]:
    """Remove the pool, database, user and files; every step runs even if one fails. Returns
    the failures (raised as one error when ``strict``)."""
    problems = []
    steps = (
        lambda: pools.pool_remove(layout),
        lambda: mariadb.database_drop(name=layout.db_name, user=layout.db_user),
        lambda: system.files_remove(layout),
        lambda: system.user_remove(layout),
    )
    for step in steps:
        try:
            step()
        except Exception as exc:  # every part is attempted; the failures are reported together
            problems.append(str(exc) or type(exc).__name__)
    if problems and strict:
        raise system.SiteSetupError("; ".join(problems))
    return problems


def wordpress_teardown(*, site_id) -> None:
    """Remove everything a WordPress site had on this machine and in MariaDB (idempotent;
    raises when a part could not be removed, so the task retries)."""
    _teardown(layout_for(site_id), strict=True)


def wordpress_site_deleted(*, site_id) -> None:
    """A WordPress site's row is gone: remove its parts now, and queue a retry if that fails
    (MariaDB down, say), so nothing is left behind."""
    try:
        wordpress_teardown(site_id=site_id)
    except Exception as exc:  # retried by the task until every part is gone
        log.warning("Removing WordPress site %s failed (%s); queued to retry.", site_id, exc)
        enqueue_on_commit(TEARDOWN_TASK, str(site_id))


def wordpress_stop(*, site: Site) -> Site:
    """Stop the site's PHP pool; visitors get "503 unavailable" until it is started."""
    pools.pool_stop(layout_for(site.pk))
    _site_status(site.pk, Site.Status.OFFLINE)
    site.status = Site.Status.OFFLINE
    return site


def wordpress_start(*, site: Site) -> Site:
    """Start the site's PHP pool again and serve it."""
    job = WordPressSite.objects.filter(pk=site.pk).first()
    if job is None or job.state != WordPressSite.State.DONE:
        raise ValidationError("This site is not installed; delete it and create it again.")
    pools.pool_resume(layout_for(site.pk))
    _site_status(site.pk, Site.Status.ONLINE)
    site.status = Site.Status.ONLINE
    return site


def wordpress_delete(*, site: Site, confirm: str) -> None:
    """Delete the site once its address is typed back: its row now, then (on commit) its pool,
    database and user, Unix user and files (``wordpress.signals``)."""
    if (confirm or "").strip().lower() != site.slug:
        raise ValidationError({"confirm": [f"Type “{site.slug}” to delete this site."]})
    site_delete(site=site)


def wordpress_login_link(*, site: Site) -> LoginLink:
    """A one-time link, valid for a minute, that lands in wp-admin as the site's administrator
    (checked by Berth's must-use plugin in the site)."""
    if site.status != Site.Status.ONLINE:
        raise ValidationError("Start the site first: it is not online.")
    return login_link(site_id=site.pk, site_url=site.url)
