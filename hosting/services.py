"""Creating, changing and deleting sites. Every write to a site goes through here."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from billing.limits import plan_enforce, site_limits_for
from hosting.files.backends import tree_for
from hosting.files.operations import files_for_publish
from hosting.files.quota import (  # noqa: F401  (storage accounting, re-exported)
    files_total,
    site_storage_adjust,
    site_storage_check,
    site_storage_recount,
    site_storage_reserve,
)
from hosting.hostnames import hostnames_changed
from hosting.models import Site, validate_site_slug
from hosting.slugs import reserved_slugs
from teams.services import acting_team


def slug_suggest(name: str) -> str:
    """A free DNS-safe address from a name: “My Blog!” -> “my-blog”, then “my-blog-2”, …"""
    base = re.sub(r"-{2,}", "-", slugify(name or "").replace("_", "-")).strip("-")[:50] or "site"
    if base in reserved_slugs():
        base = f"{base}-site"
    candidate, n = base, 1
    while Site.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}" if n < 50 else f"{base}-{secrets.token_hex(3)}"
    return candidate


@dataclass(frozen=True)
class AddressCheck:
    slug: str
    available: bool
    suggestion: str
    message: str


def site_address_check(*, slug: str, name: str = "") -> AddressCheck:
    """Would ``slug`` be accepted as a new site's address, and what free one is suggested?

    The same rules as ``site_create`` (the model's slug validator), answered without raising."""
    slug = (slug or "").strip().lower()[:63]
    suggestion = slug_suggest(name or slug or "site")
    if not slug:
        return AddressCheck(slug=suggestion, available=True, suggestion=suggestion, message="")
    try:
        validate_site_slug(slug)
    except ValidationError as exc:
        return AddressCheck(slug, False, suggestion, exc.messages[0])
    if Site.objects.filter(slug=slug).exists():
        return AddressCheck(slug, False, slug_suggest(slug), f"“{slug}” is taken.")
    return AddressCheck(slug, True, suggestion, "Available.")


def site_create(
    *, owner, name: str, slug: str = "", kind: str = Site.Kind.STATIC, team=None
) -> Site:
    """Create a site of ``team`` (default: the one ``owner`` acts in), made by ``owner``;
    its address is ``slug`` or one made from the name.

    The team's plan must allow one more site (and one more WordPress site for that kind):
    ``PlanLimitExceeded`` otherwise. The site starts with the plan's storage and bandwidth."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the site a name."]})
    slug = (slug or "").strip().lower() or slug_suggest(name)
    team = team or acting_team(owner)
    site = Site(
        team=team,
        owner=owner,
        name=name,
        slug=slug,
        kind=kind,
        status=Site.Status.PROVISIONING,
        **site_limits_for(team),
    )
    # Uniqueness is the database's to decide (two sign-ups may race): one friendly message.
    site.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            plan_enforce(team, "sites")
            if kind == Site.Kind.WORDPRESS:
                plan_enforce(team, "wordpress_sites")
            site.save(force_insert=True)
    except IntegrityError as exc:
        message = f"“{slug}” is taken; try “{slug_suggest(slug)}”."
        raise ValidationError({"slug": [message]}) from exc
    site_id = site.pk
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))
    return site


def site_rename(*, site: Site, name: str) -> Site:
    """Change a site's display name (its address stays: links and DNS depend on it)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the site a name."]})
    site.name = name
    site.full_clean(validate_unique=False)
    Site.objects.filter(pk=site.pk).update(name=name, updated_at=timezone.now())
    return site


def site_set_offline(*, site: Site, offline: bool) -> Site:
    """Take a site offline (its address answers 503) or bring it back.

    Back online means "online" when a deployment is live, else "provisioning" until one is.
    """
    if offline:
        status = Site.Status.OFFLINE
    else:
        has_live = Site.objects.filter(pk=site.pk, live_deployment__isnull=False).exists()
        status = Site.Status.ONLINE if has_live else Site.Status.PROVISIONING
    Site.objects.filter(pk=site.pk).update(status=status, updated_at=timezone.now())
    site.status = status
    site_id = site.pk
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))
    return site


def site_set_rate_limit(*, site: Site, rate: int | None) -> Site:
    """Serve every response of ``site`` at ``rate`` bytes a second (``None``: full speed),
    on the embedded server and the edge alike."""
    Site.objects.filter(pk=site.pk).update(rate_limit=rate, updated_at=timezone.now())
    site.rate_limit = rate
    site_id = site.pk
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))
    return site


def site_delete(*, site: Site) -> None:
    """Delete a site, its deployments (cascade) and its working files.

    Blobs the deployments used stay until garbage collection finds them unreferenced.
    The files go after the transaction commits, so a failed delete keeps them.
    """
    site_id = site.pk
    tree = tree_for(site_id)
    with transaction.atomic():
        Site.objects.filter(pk=site_id).update(live_deployment=None)
        Site.objects.filter(pk=site_id).delete()
    transaction.on_commit(tree.remove_all)
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))


def site_deploy(*, site: Site, author=None):
    """Publish the site's working files as a new immutable deployment and make it live."""
    from deployments.models import Deployment, Project
    from deployments.services import deployment_publish

    files = files_for_publish(site=site)
    if not files:
        project = Project.objects.filter(site=site).first()
        if project is not None:
            raise ValidationError(
                f"This site is built from {project.repository}; use “Deploy latest” to build "
                f"the head of {project.branch}."
            )
        raise ValidationError("There are no files to deploy yet; upload some first.")
    return deployment_publish(
        site=site, files=files, source=Deployment.Source.UPLOAD, author=author
    )


PREVIEW_PASSWORD_MIN = 8


def site_preview_protection_set(*, site: Site, protection: str, password: str = "") -> Site:
    """Who may open the site's preview and deployment addresses: anyone, the team's signed-in
    members, or anyone with a password (kept hashed; empty keeps the current one). Every
    change signs out everyone who had unlocked them."""
    from django.contrib.auth.hashers import make_password

    if protection not in Site.PreviewProtection.values:
        raise ValidationError({"protection": ["Choose who may open the previews."]})
    password = password or ""
    if protection == Site.PreviewProtection.PASSWORD:
        if password and len(password) < PREVIEW_PASSWORD_MIN:
            raise ValidationError(
                {"password": [f"Use at least {PREVIEW_PASSWORD_MIN} characters."]}
            )
        if not password and not site.preview_password:
            raise ValidationError({"password": ["Set the password visitors will enter."]})
    if password:
        site.preview_password = make_password(password)
    if protection == Site.PreviewProtection.OFF:
        site.preview_password = ""
    site.preview_protection = protection
    site.preview_secret = secrets.token_urlsafe(32)
    site.save(update_fields=["preview_protection", "preview_password", "preview_secret"])
    site_id = site.pk
    transaction.on_commit(lambda: hostnames_changed.send(sender=Site, site_id=site_id))
    return site


class PreviewUnlockRefused(Exception):
    """The visitor may not open this preview (not a member, wrong password, too many tries)."""


def preview_unlock(*, host: str, next_path: str, user=None, password: str | None = None) -> str:
    """The link that opens a protected preview address for this visitor: the team's
    signed-in members (any role), or anyone with the password, as the site says. An address
    that is not locked gets its plain URL."""
    from django.contrib.auth.hashers import check_password

    from hosting import preview_lock
    from hosting.hostnames import normalise_host, route_for_host
    from teams.permissions import VIEW, can

    host = normalise_host(host)
    route = route_for_host(host) if host else None
    site = Site.objects.filter(pk=route.site_id).first() if route else None
    if site is None or not route.deployment_id:
        raise ValidationError("This is not the address of a preview or a deployment.")
    next_path = preview_lock.safe_next(next_path)
    address = Site.url_for(host)
    mode = site.preview_protection
    if mode == Site.PreviewProtection.OFF or not site.preview_secret:
        return f"{address}{next_path}"
    if mode == Site.PreviewProtection.TEAM:
        if user is None or not user.is_authenticated or not can(user, VIEW, site):
            raise PreviewUnlockRefused(
                f"Only members of the team that owns {site.name} can open its previews."
            )
    elif not password or not check_password(password, site.preview_password):
        raise PreviewUnlockRefused("That password is not right.")
    return preview_lock.unlock_link(address, host, site.preview_secret, next_path)
