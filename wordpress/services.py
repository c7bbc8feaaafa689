"""Creating, provisioning, starting, stopping and deleting WordPress sites.

``wordpress_site_create`` makes the Site (status provisioning) and its job record and queues
``wordpress.tasks.provision``; ``wordpress_provision`` does the work, step by step and
idempotently: the database and its user, the Unix user, the folder with core and wp-content,
wp-config.php, the php-fpm pool under Berth's supervisor, then WordPress's own installer. A
failure removes everything made so far and leaves the site in ``error`` with the reason.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from backups.services import BackupFailed, back_up_before_wordpress_update
from billing.limits import plan_of
from controlpanel.enqueue import enqueue_on_commit
from hosting.hostnames import hostnames_changed
from hosting.models import Site
from hosting.services import site_create, site_delete
from hosting.serving.store import SUSPENDED, serving_status
from teams.audit import audit_record
from teams.permissions import SITE_MANAGE, job_refusal
from wordpress import mariadb, pools, system
from wordpress.layout import layout_for
from wordpress.login import LoginLink, login_key, login_link
from wordpress.models import WordPressSite

log = logging.getLogger(__name__)

PROVISION_TASK = "wordpress.tasks.provision"
TEARDOWN_TASK = "wordpress.tasks.teardown"
RECONCILE_TASK = "wordpress.tasks.reconcile_pool"
UPDATE_TASK = "wordpress.tasks.core_update"
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
    """PHP limits of a team's WordPress sites, from its plan (the installation's WORDPRESS_*
    settings where the plan leaves one empty): where a new site starts, and the most its owner
    may set."""
    plan = plan_of(team)
    return {
        "memory_limit_mb": plan.php_memory_mb or settings.WORDPRESS_MEMORY_LIMIT_MB,
        "upload_limit_mb": plan.php_upload_mb or settings.WORDPRESS_UPLOAD_LIMIT_MB,
        "max_execution_seconds": (
            plan.php_execution_seconds or settings.WORDPRESS_MAX_EXECUTION_SECONDS
        ),
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
    wordpress_storage_recount(site_id=site_id)
    _site_status(site_id, Site.Status.ONLINE)
    return WordPressSite.objects.get(pk=site_id)


def _provision_steps(job: WordPressSite, layout) -> str:
    server = mariadb.server()
    mariadb.database_create(name=job.db_name, user=job.db_user, password=job.db_password)
    owner = system.owner_for(layout)
    system.files_create(layout, owner)
    _configure(job, layout, owner, db_host=server.address)
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


def _configure(job: WordPressSite, layout, owner=None, *, db_host: str = "") -> None:
    """Write the site's wp-config.php, Berth's must-use plugins and the pool's configuration
    from the job's settings (a running pool reads the latter when restarted)."""
    if not layout.wp_content.is_dir():
        raise system.SiteSetupError(f"The site's files are missing ({layout.root}).")
    owner = owner or system.owner_for(layout)
    system.plugins_write(layout)
    system.wp_config_write(
        layout,
        owner,
        db_host=db_host or mariadb.server().address,
        db_password=job.db_password,
        default_url=job.site.url,
        login_key=login_key(layout.site_id),
        debug=job.debug,
        maintenance=job.maintenance,
    )
    system.pool_config_write(
        layout,
        owner,
        memory_mb=job.memory_limit_mb,
        upload_mb=job.upload_limit_mb,
        max_seconds=job.max_execution_seconds,
        debug=job.debug,
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
    if _suspended(site.pk):
        raise ValidationError("This site's team is suspended; it starts again when that ends.")
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


def _installed(site: Site) -> WordPressSite:
    job = WordPressSite.objects.select_related("site").filter(pk=site.pk).first()
    if job is None or job.state != WordPressSite.State.DONE:
        raise ValidationError("WordPress is not set up on this site yet.")
    return job


# The least a setting may be (WordPress itself needs about 40 MB to run).
SETTING_FLOORS = {"memory_limit_mb": 64, "upload_limit_mb": 1, "max_execution_seconds": 10}
SETTING_NAMES = {
    "memory_limit_mb": "PHP memory",
    "upload_limit_mb": "Upload size",
    "max_execution_seconds": "Execution time",
}


def wordpress_settings_update(*, site: Site, by=None, **changes) -> WordPressSite:
    """Change the site's PHP limits (memory in MB, upload size in MB, execution time in
    seconds; each within the team's plan), debug mode and maintenance mode. They are written to
    wp-config.php and the pool's configuration and hold at once: a running pool restarts. A
    change that cannot be applied is undone and raised."""
    unknown = set(changes) - {*SETTING_FLOORS, "debug", "maintenance"}
    if unknown:
        raise ValueError(f"Not a WordPress setting: {', '.join(sorted(unknown))}")
    job = _installed(site)
    ceilings = plan_limits(team=site.team)
    errors = {}
    for name, value in changes.items():
        if name in ("debug", "maintenance"):
            if not isinstance(value, bool):
                errors[name] = ["Answer true or false."]
            continue
        low, high = min(SETTING_FLOORS[name], ceilings[name]), ceilings[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = [f"{SETTING_NAMES[name]} must be between {low} and {high}."]
    if errors:
        raise ValidationError(errors)
    before = {name: getattr(job, name) for name in changes}
    changed = [name for name, value in changes.items() if before[name] != value]
    if not changed:
        return job
    layout = layout_for(site.pk)
    for name in changed:
        setattr(job, name, changes[name])
    try:
        _configure(job, layout)
        pools.pool_reload(layout)  # PHP's opcache would serve the old wp-config.php a while
    except Exception:
        for name, value in before.items():  # the files say what the row says
            setattr(job, name, value)
        with contextlib.suppress(Exception):  # the first failure is the one to report
            _configure(job, layout)
        raise
    WordPressSite.objects.filter(pk=site.pk).update(**{name: changes[name] for name in changed})
    audit_record(
        team=site.team,
        actor=by,
        action="wordpress.settings",
        obj=site,
        details={name: changes[name] for name in changed},
    )
    return job


def wordpress_admin_password_set(*, site: Site, password: str, by=None) -> str:
    """Set a new password for the site's WordPress administrator (WordPress hashes it; Berth
    keeps nothing). Returns the administrator's login."""
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError({"password": [f"Use at least {MIN_PASSWORD} characters."]})
    job = _installed(site)
    layout = layout_for(site.pk)
    login = system.admin_password_set(
        layout,
        system.owner_for(layout),
        host=site.hostname,
        user=job.admin_user,
        password=password,
    )
    if login != job.admin_user:
        WordPressSite.objects.filter(pk=site.pk).update(admin_user=login[:60])
    audit_record(
        team=site.team,
        actor=by,
        action="wordpress.password",
        obj=site,
        details={"user": login},
    )
    return login


def _suspended(site_id) -> bool:
    """True while the site's team is suspended (an unpaid bill, or by an operator)."""
    row = (
        Site.objects.filter(pk=site_id)
        .values_list("status", "team__subscription__status", "team__suspended_at")
        .first()
    )
    return row is not None and serving_status(*row) == SUSPENDED


def wordpress_pool_reconcile(*, site_id) -> str | None:
    """Make the site's pool match what the site should do: running while it is online and its
    team is not suspended, stopped otherwise (suspension stops PHP, not only the pages). Runs
    whenever the site's serving may have changed; returns "started", "stopped" or None."""
    job = WordPressSite.objects.filter(pk=site_id).select_related("site").first()
    if job is None or job.state != WordPressSite.State.DONE:
        return None  # provisioning owns the pool until it ends; a failed one has none
    layout = layout_for(site_id)
    wanted = job.site.status == Site.Status.ONLINE and not _suspended(site_id)
    running = pools.pool_state(layout) in ("running", "starting")
    try:
        if wanted and not running:
            pools.pool_resume(layout)
            return "started"
        if running and not wanted:
            pools.pool_stop(layout)
            return "stopped"
    except pools.PoolError as exc:  # the site's page shows the pool's state; nothing to retry
        log.warning("WordPress site %s: %s", site_id, exc)
    return None


def wordpress_storage_recount(*, site_id) -> int | None:
    """Count the site's own files and its database into the Site's storage used (what plans
    limit and pages show); returns the bytes, or None when the database cannot be measured
    (the count is left as it was)."""
    job = WordPressSite.objects.filter(pk=site_id).first()
    if job is None or job.state != WordPressSite.State.DONE:
        return None
    try:
        database = mariadb.database_size(job.db_name)
    except mariadb.MariaDBError as exc:
        log.warning("Measuring WordPress site %s's database failed: %s", site_id, exc)
        return None
    total = system.files_bytes(layout_for(site_id)) + database
    Site.objects.filter(pk=site_id).update(storage_used=total)
    return total


def wordpress_storage_recount_all() -> int:
    """Recount every installed WordPress site's storage (hourly); returns how many."""
    counted = 0
    for site_id in WordPressSite.objects.filter(state=WordPressSite.State.DONE).values_list(
        "pk", flat=True
    ):
        if wordpress_storage_recount(site_id=site_id) is not None:
            counted += 1
    return counted


def wordpress_core_update(*, site: Site, by=None) -> WordPressSite:
    """Queue the update of the site's WordPress to the version of the package on this server
    (``wordpress.tasks.core_update``); the row's ``update_*`` fields are its job record.
    Refused when the site already runs that version or an update is under way."""
    job = _installed(site)
    target = system.core_version()
    if not target:
        raise ValidationError("WordPress core is not installed on this server.")
    if target == job.version:
        raise ValidationError(f"This site already runs WordPress {target}.")
    with transaction.atomic():
        claimed = (
            WordPressSite.objects.filter(pk=site.pk)
            .exclude(update_state__in=[WordPressSite.State.QUEUED, WordPressSite.State.RUNNING])
            .update(
                update_state=WordPressSite.State.QUEUED,
                update_error="",
                update_started_at=None,
                update_finished_at=None,
            )
        )
        if not claimed:
            raise ValidationError("An update of this site is already under way.")
        task_id = enqueue_on_commit(UPDATE_TASK, str(site.pk), str(by.pk) if by else None)
        WordPressSite.objects.filter(pk=site.pk).update(update_task_id=task_id)
    audit_record(
        team=site.team,
        actor=by,
        action="wordpress.update",
        obj=site,
        details={"from": job.version, "to": target},
    )
    return WordPressSite.objects.get(pk=site.pk)


def wordpress_core_update_run(*, site_id, by_id=None) -> WordPressSite | None:
    """Update the site's core (the task's body): a "before WordPress update" backup first (no
    backup, no update), then, behind WordPress's own maintenance page, core re-linked to the
    package's files, WordPress's database upgrade, and the pool restarted. Ends ``done`` with
    the new version, or ``failed`` with the reason (the backup restores the site before it)."""
    claimed = WordPressSite.objects.filter(
        pk=site_id, update_state__in=[WordPressSite.State.QUEUED, WordPressSite.State.RUNNING]
    ).update(update_state=WordPressSite.State.RUNNING, update_started_at=timezone.now())
    if not claimed:
        return None
    job = WordPressSite.objects.select_related("site").get(pk=site_id)
    layout = layout_for(site_id)
    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    try:
        back_up_before_wordpress_update(job.site, by=by)
        owner = system.owner_for(layout)
        system.updating(layout, True)
        try:
            system.core_relink(layout)
            version = system.wordpress_upgrade(layout, owner, host=job.site.hostname)
        finally:
            system.updating(layout, False)
        pools.pool_reload(layout)  # no compiled copy of the old core stays in PHP's opcache
    except Exception as exc:  # the update ends with its reason; the backup holds the old site
        reason = str(exc) or type(exc).__name__
        expected = (BackupFailed, system.SiteSetupError, pools.PoolError, OSError)
        if not isinstance(exc, expected):
            log.exception("Updating WordPress site %s failed", site_id)
        WordPressSite.objects.filter(pk=site_id).update(
            update_state=WordPressSite.State.FAILED,
            update_error=reason[:2000],
            update_finished_at=timezone.now(),
        )
        return WordPressSite.objects.filter(pk=site_id).first()
    WordPressSite.objects.filter(pk=site_id).update(
        version=version,
        update_state=WordPressSite.State.DONE,
        update_finished_at=timezone.now(),
    )
    wordpress_storage_recount(site_id=site_id)
    return WordPressSite.objects.get(pk=site_id)
