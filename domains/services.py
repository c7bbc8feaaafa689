"""Every write to a domain: add, register, renew, attach to a site, verify, remove.

HTML views, API views, tasks and the admin all call these. Routing changes are announced with
``hostnames_changed`` after the transaction commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from billing import purchases
from billing import selectors as billing_selectors
from billing.limits import plan_enforce
from billing.models import Purchase
from domains import certificates, registrars, zones
from domains.certificates import (  # noqa: F401  (writes re-exported: this module is the door)
    certificate_issue,
    certificate_request,
    certificates_maintain,
)
from domains.dns import verify as dns_verify
from domains.models import Certificate, Domain
from domains.names import display_name, normalise_domain, normalise_label
from domains.zones import (  # noqa: F401  (writes re-exported: this module is the door)
    record_create,
    record_delete,
    record_update,
    zone_publish,
)
from hosting.hostnames import hostnames_changed
from hosting.models import Site
from teams.selectors import team_owners
from teams.services import acting_team

log = logging.getLogger(__name__)

MAX_DOMAINS_PER_USER = 200
RENEW_AHEAD = timedelta(days=30)  # auto-renewals are charged this long before expiry
SUGGESTION_SUFFIXES = ["app", "hq", "site", "online", "web", "now", "go", "get"]


def _ensure_primary(site_id) -> None:
    """A site with verified domains keeps one primary: the oldest verified one by default."""
    if not site_id or Domain.objects.filter(site_id=site_id, is_primary=True).exists():
        return
    first = (
        Domain.objects.verified().filter(site_id=site_id).order_by("verified_at", "name").first()
    )
    if first is not None:
        Domain.objects.filter(pk=first.pk).update(is_primary=True)


def announce_routes(site_id=None) -> None:
    """Tell the site server and the edge that hostnames changed (after commit)."""
    transaction.on_commit(lambda: hostnames_changed.send(sender=Domain, site_id=site_id))


# --- search -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchResult:
    name: str
    available: bool
    price: Decimal | None
    currency: str
    reason: str
    registrar: str
    renewal_price: Decimal | None = None  # per year at renewal

    @property
    def display_name(self) -> str:
        return display_name(self.name)


def _check(name: str) -> SearchResult:
    adapter = registrars.adapter_for(name)
    if adapter is None:
        return SearchResult(name, False, None, "", "Berth does not sell this TLD.", "")
    try:
        found = adapter.check(name)
    except registrars.RegistrarError as exc:
        return SearchResult(name, False, None, "", str(exc), adapter.key)
    renewal = found.price if found.renewal_price is None else found.renewal_price
    return SearchResult(
        name, found.available, found.price, found.currency, found.reason, adapter.key, renewal
    )


def domain_search(*, query: str) -> tuple[list[SearchResult], list[SearchResult]]:
    """Availability and yearly price of a name per TLD, and suggestions when it is taken.

    ``query`` is a full name (``brand.test``) or one label (``brand``: every sold TLD)."""
    query = (query or "").strip()
    if "." in query.strip("."):
        name = normalise_domain(query)
        label, _, tld = name.partition(".")
        names = [name] + [f"{label}.{t}" for t in registrars.sold_tlds() if t != tld]
    else:
        label = normalise_label(query)
        names = [f"{label}.{t}" for t in registrars.sold_tlds()]
    results = [_check(n) for n in names]
    suggestions: list[SearchResult] = []
    if results and not results[0].available:
        tld = names[0].partition(".")[2]
        for suffix in SUGGESTION_SUFFIXES:
            candidate = f"{label}{suffix}.{tld}"
            if len(label) + len(suffix) > 63:
                break
            found = _check(candidate)
            if found.available:
                suggestions.append(found)
            if len(suggestions) == 4:
                break
    return results, suggestions


# --- adding and registering -------------------------------------------------------------------
def _site_of(team, site) -> Site | None:
    """``site`` (an instance or an id) when it belongs to ``team``: a domain serves its own
    team's sites only."""
    if site is None:
        return None
    if isinstance(site, Site):
        if site.team_id != team.pk:
            raise ValidationError({"site": "No such site."})
        return site
    found = Site.objects.for_team(team).filter(pk=site).first()
    if found is None:
        raise ValidationError({"site": "No such site."})
    return found


def _new_domain(*, owner, name: str, site=None, team=None) -> Domain:
    team = team or acting_team(owner)
    try:
        name = normalise_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    if Domain.objects.filter(team=team).count() >= MAX_DOMAINS_PER_USER:
        raise ValidationError(f"A team holds at most {MAX_DOMAINS_PER_USER} domains.")
    if Domain.objects.filter(team=team, name=name).exists():
        raise ValidationError({"name": "You have already added this domain."})
    if (
        Domain.objects.filter(name=name)
        .exclude(team=team)
        .filter(verification_status=Domain.Verification.VERIFIED)
        .exists()
    ):
        raise ValidationError({"name": "This domain is verified by another account."})
    if name == settings.SITES_DOMAIN or name.endswith("." + settings.SITES_DOMAIN):
        raise ValidationError({"name": f"Names under {settings.SITES_DOMAIN} belong to Berth."})
    return Domain(team=team, owner=owner, name=name, site=_site_of(team, site))


def domain_add(*, owner, name: str, site=None, team=None) -> Domain:
    """Add a domain registered elsewhere to ``team`` (default: the one ``owner`` acts in);
    it gets a verification token."""
    domain = _new_domain(owner=owner, name=name, site=site, team=team)
    domain.full_clean()
    try:
        with transaction.atomic():
            plan_enforce(domain.team, "custom_domains")
            domain.save(force_insert=True)
    except IntegrityError as exc:
        raise ValidationError({"name": "This domain was just added; reload the page."}) from exc
    return domain


@dataclass(frozen=True)
class RegistrationQuote:
    """What registering ``name`` for ``years`` costs now, as its registrar says."""

    name: str
    years: int
    price: Decimal  # per year
    renewal_price: Decimal  # per year, at each renewal
    currency: str
    registrar: str
    registrar_label: str = ""

    @property
    def total(self) -> Decimal:
        return self.price * self.years

    @property
    def display_name(self) -> str:
        return display_name(self.name)


class PriceNotConfirmed(Exception):
    """A registration was asked for without confirming the registrar's current price: nothing
    was charged. ``quote`` is the price now, to show and confirm."""

    def __init__(self, message: str, quote: RegistrationQuote):
        super().__init__(message)
        self.quote = quote


def _years(years) -> int:
    try:
        years = int(years)
    except (TypeError, ValueError):
        raise ValidationError({"years": "Enter a number of years."}) from None
    if not 1 <= years <= 10:
        raise ValidationError({"years": "Register for 1 to 10 years."})
    return years


def registration_quote(*, name: str, years: int = 1) -> RegistrationQuote:
    """The price of registering ``name`` for ``years``, asked of its registrar now.

    Raises ``ValidationError`` when the name is not sold here or not available."""
    years = _years(years)
    try:
        name = normalise_domain(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    adapter = registrars.adapter_for(name)
    if adapter is None:
        raise ValidationError({"name": "Berth does not sell names in this TLD."})
    try:
        found = adapter.check(name)
    except registrars.RegistrarError as exc:
        raise ValidationError({"name": str(exc)}) from exc
    if not found.available or found.price is None:
        reason = f" ({found.reason})" if found.reason else ""
        raise ValidationError({"name": f"{display_name(name)} is not available{reason}."})
    return RegistrationQuote(
        name=name,
        years=years,
        price=found.price,
        renewal_price=found.price if found.renewal_price is None else found.renewal_price,
        currency=found.currency,
        registrar=adapter.key,
        registrar_label=adapter.label or adapter.key,
    )


def _price(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"confirm_price": "Enter the price as a number."}) from None


def domain_register(
    *, owner, name: str, confirm_price, years: int = 1, site=None, team=None
) -> Purchase:
    """Order the registration of ``name``: charged first, registered only once paid.

    ``confirm_price`` is the yearly price the customer was shown and accepted: unless it is
    the registrar's price now, nothing is ordered and ``PriceNotConfirmed`` carries the
    current price to show instead. ``None`` (the customer confirmed nothing) is refused too.
    Returns the purchase: awaiting payment (its Checkout URL with Stripe, its invoice
    without), or done at once for a free name (``details["domain_id"]``)."""
    years = _years(years)
    domain = _new_domain(owner=owner, name=name, site=site, team=team)
    confirmed = _price(confirm_price)
    quote = registration_quote(name=domain.name, years=years)
    if confirmed is None:
        raise PriceNotConfirmed(
            f"Confirm the price: {quote.price} {quote.currency} a year for {quote.display_name}.",
            quote,
        )
    if confirmed != quote.price:
        raise PriceNotConfirmed(
            f"The price of {quote.display_name} is now {quote.price} {quote.currency} a year, "
            f"not {confirmed}: confirm the new price.",
            quote,
        )
    domain.full_clean()
    plan_enforce(domain.team, "custom_domains")
    return purchases.purchase_start(
        team=domain.team,
        kind=Purchase.Kind.DOMAIN_REGISTRATION,
        subject=domain.name,
        description=f"Registration of {domain.name} ({years} year{'s' if years > 1 else ''})",
        amount=quote.total,
        currency=quote.currency,
        details={
            "name": domain.name,
            "years": years,
            "registrar": quote.registrar,
            "site_id": str(domain.site_id) if domain.site_id else None,
            "owner_id": str(owner.pk) if owner else None,
        },
        buyer=owner,
    )


@purchases.fulfiller(Purchase.Kind.DOMAIN_REGISTRATION)
def _deliver_registration(purchase: Purchase) -> str:
    """A paid registration: register the name with its registrar, host its zone, add it."""
    order = purchase.details
    team = purchase.team
    domain = Domain.objects.filter(
        team=team, name=order["name"], registration=Domain.Registration.ACTIVE
    ).first()
    if domain is None:  # not done before a crash
        owner = User.objects.filter(pk=order.get("owner_id")).first() or purchase.buyer
        site = Site.objects.for_team(team).filter(pk=order["site_id"]).first()
        try:
            domain = _register_now(
                owner=owner,
                team=team,
                name=order["name"],
                years=order["years"],
                site=site if order.get("site_id") else None,
                registrar=order["registrar"],
            )
        except ValidationError as exc:
            raise purchases.FulfilmentError(" ".join(exc.messages)) from exc
    purchase.details["domain_id"] = str(domain.pk)
    return f"{domain.display_name} is registered until {domain.expires_at:%-d %B %Y}."


def _register_now(*, owner, team, name: str, years: int, site, registrar: str) -> Domain:
    domain = _new_domain(owner=owner, name=name, site=site, team=team)
    domain.full_clean()
    adapter = registrars.adapter_named(registrar)
    if adapter is None:
        raise ValidationError(f"The registrar “{registrar}” is not configured.")
    owners = team_owners(team)
    registrant = owner.email if owner else (owners[0].email if owners else "")
    with transaction.atomic():
        plan_enforce(domain.team, "custom_domains", adding=0)  # its order is counted already
        try:
            info = adapter.register(
                domain.name,
                years=years,
                registrant=registrant,
                nameservers=list(settings.DNS_NAMESERVERS),
            )
        except registrars.RegistrarError as exc:
            raise ValidationError({"name": str(exc)}) from exc
        domain.registration = Domain.Registration.ACTIVE
        domain.registrar = adapter.key
        domain.registered_at = info.created_at or timezone.now()
        domain.expires_at = info.expires_at
        domain.nameservers = info.nameservers
        domain.transfer_lock = info.transfer_lock
        domain.save(force_insert=True)
    zones.zone_enable(domain=domain)
    if domain.site_id:
        domain_verify(domain=domain)
    return domain


def _adapter(domain: Domain):
    adapter = registrars.adapter_named(domain.registrar)
    if adapter is None:
        raise ValidationError(f"The registrar “{domain.registrar}” is not configured.")
    return adapter


def renewal_price(*, domain: Domain) -> tuple[Decimal, str] | None:
    """The yearly price and currency at which a registration renews, as its registrar says
    now; None when the domain is not registered here or the registrar does not answer."""
    adapter = registrars.adapter_named(domain.registrar) if domain.is_registered else None
    if adapter is None:
        return None
    try:
        found = adapter.check(domain.name)
    except registrars.RegistrarError:
        return None
    price = found.price if found.renewal_price is None else found.renewal_price
    return None if price is None else (price, found.currency)


def domain_renew(*, domain: Domain, years: int = 1, buyer=None) -> Purchase:
    """Order the renewal of a registration by ``years``: charged first (its price shown and
    confirmed on the page), extended only once paid; free renewals at once. An open renewal
    of the domain (an automatic one whose charge failed) is the one paid now."""
    if not domain.is_registered:
        raise ValidationError("Only domains registered through Berth can be renewed here.")
    years = _years(years)
    pending = billing_selectors.purchase_open(
        kind=Purchase.Kind.DOMAIN_RENEWAL, subject=domain.name
    )
    if pending is not None:
        return purchases.purchase_checkout(purchase=pending)
    return _renewal_order(domain=domain, years=years, buyer=buyer, unattended=False)


def _renewal_order(*, domain: Domain, years: int, buyer, unattended: bool) -> Purchase:
    price = renewal_price(domain=domain)
    if price is None:
        raise ValidationError("The registrar does not give a renewal price now; try later.")
    expires = f"{domain.expires_at:%-d %B %Y}" if domain.expires_at else ""
    return purchases.purchase_start(
        team=domain.team,
        kind=Purchase.Kind.DOMAIN_RENEWAL,
        subject=domain.name,
        description=f"Renewal of {domain.name} ({years} year{'s' if years > 1 else ''})",
        amount=price[0] * years,
        currency=price[1],
        details={"domain_id": str(domain.pk), "years": years, "expires": expires},
        buyer=buyer,
        unattended=unattended,
    )


@purchases.fulfiller(Purchase.Kind.DOMAIN_RENEWAL)
def _deliver_renewal(purchase: Purchase) -> str:
    """A paid renewal: extend the registration at its registrar."""
    domain = Domain.objects.filter(pk=purchase.details["domain_id"], team=purchase.team).first()
    if domain is None:
        raise purchases.FulfilmentError("The domain was removed from the team.")
    try:
        domain = registration_extend(domain=domain, years=purchase.details["years"])
    except ValidationError as exc:
        raise purchases.FulfilmentError(" ".join(exc.messages)) from exc
    return f"{domain.display_name} is renewed until {domain.expires_at:%-d %B %Y}."


def registration_extend(*, domain: Domain, years: int = 1) -> Domain:
    """Extend a registration by ``years`` at its registrar (a paid renewal)."""
    if not domain.is_registered:
        raise ValidationError("Only domains registered through Berth can be renewed here.")
    years = _years(years)
    try:
        info = _adapter(domain).renew(domain.name, years=years)
    except registrars.RegistrarError as exc:
        raise ValidationError({"years": str(exc)}) from exc
    domain.expires_at = info.expires_at
    domain.registration = Domain.Registration.ACTIVE
    domain.reminded_days = None
    domain.save(update_fields=["expires_at", "registration", "reminded_days", "updated_at"])
    return domain


def domain_set_nameservers(*, domain: Domain, nameservers: list[str]) -> Domain:
    if not domain.is_registered:
        raise ValidationError("Set nameservers at the registrar that holds this domain.")
    cleaned = []
    for ns in nameservers:
        if ns.strip():
            try:
                cleaned.append(normalise_domain(ns))
            except ValidationError as exc:
                raise ValidationError({"nameservers": exc.messages}) from exc
    if not 2 <= len(cleaned) <= 13:
        raise ValidationError({"nameservers": "Give 2 to 13 nameservers."})
    try:
        info = _adapter(domain).set_nameservers(domain.name, cleaned)
    except registrars.RegistrarError as exc:
        raise ValidationError({"nameservers": str(exc)}) from exc
    domain.nameservers = info.nameservers
    domain.save(update_fields=["nameservers", "updated_at"])
    return domain


def domain_update(
    *,
    domain: Domain,
    site=...,
    is_primary: bool | None = None,
    redirect: str | None = None,
    auto_renew: bool | None = None,
    transfer_lock: bool | None = None,
) -> Domain:
    """Change what a domain serves and how: site, primary flag, www redirect, renewal, lock.

    ``site=None`` detaches; leaving ``site`` out keeps it."""
    routes_before = (domain.site_id, domain.is_primary, domain.redirect)
    old_site_id = domain.site_id
    with transaction.atomic():
        domain = Domain.objects.select_for_update().get(pk=domain.pk)
        if site is not ...:
            new_site = _site_of(domain.team, site)
            if (new_site.pk if new_site else None) != domain.site_id:
                domain.site = new_site
                domain.is_primary = False
        if redirect is not None:
            if redirect not in Domain.Redirect.values:
                raise ValidationError({"redirect": "Choose none, www_to_apex or apex_to_www."})
            domain.redirect = redirect
        if auto_renew is not None:
            domain.auto_renew = auto_renew
        if transfer_lock is not None and transfer_lock != domain.transfer_lock:
            if not domain.is_registered:
                raise ValidationError({"transfer_lock": "Only registrations have a transfer lock."})
            try:
                _adapter(domain).set_transfer_lock(domain.name, transfer_lock)
            except registrars.RegistrarError as exc:
                raise ValidationError({"transfer_lock": str(exc)}) from exc
            domain.transfer_lock = transfer_lock
        if is_primary is not None:
            if is_primary and not domain.site_id:
                raise ValidationError({"is_primary": "Attach the domain to a site first."})
            if is_primary and not domain.is_verified:
                raise ValidationError({"is_primary": "Verify the domain before making it primary."})
            if is_primary:
                Domain.objects.filter(site_id=domain.site_id, is_primary=True).exclude(
                    pk=domain.pk
                ).update(is_primary=False)
            domain.is_primary = is_primary
        domain.full_clean()
        domain.save()
        if old_site_id != domain.site_id:
            _ensure_primary(old_site_id)
        if (domain.site_id, domain.is_primary, domain.redirect) != routes_before:
            announce_routes(old_site_id)
            if domain.site_id != old_site_id:
                announce_routes(domain.site_id)
    if domain.site_id and domain.site_id != old_site_id and not domain.is_verified:
        domain_verify(domain=domain)
    if redirect is not None and domain.is_verified and domain.site_id:
        certificates.certificate_request_auto(domain=domain)
    return domain


def domain_delete(*, domain: Domain) -> None:
    """Remove a domain from the account: it stops serving and its zone is withdrawn."""
    if domain.registration == Domain.Registration.ACTIVE:
        raise ValidationError(
            "A registered domain stays until its registration ends: turn auto-renew off, or "
            "detach it from its site to stop serving it."
        )
    site_id = domain.site_id
    certificates.certificate_files_remove(domain=domain)
    zones.zone_remove(domain=domain)
    domain.delete()
    if site_id:
        _ensure_primary(site_id)
        announce_routes(site_id)


def domain_dns_enable(*, domain: Domain) -> Domain:
    """Host the zone of a domain registered elsewhere (delegate it to DNS_NAMESERVERS)."""
    return zones.zone_enable(domain=domain)


# --- verification -----------------------------------------------------------------------------
def domain_verify(*, domain: Domain) -> Domain:
    """Check DNS now; a domain whose zone Berth hosts gets its TXT proof written first."""
    if domain.dns_hosted and not domain.is_verified:
        zones.managed_txt_set(
            domain=domain, name="_berth-verify", values=[domain.verification_token]
        )
    site_hostname = domain.site.hostname if domain.site_id else None
    result = dns_verify.check(
        domain.name, token=domain.verification_token, site_hostname=site_hostname
    )
    if not result.verified and domain.registration == Domain.Registration.ACTIVE:
        # Registering it through Berth proved ownership; DNS may simply not be public yet.
        result = dns_verify.CheckResult(
            True, Domain.Method.REGISTRATION, result.answer, "Registered through Berth."
        )
    now = timezone.now()
    became_verified = result.verified and not domain.is_verified
    domain.verification_checked_at = now
    domain.verification_answer = result.answer.as_dict()
    if result.verified:
        domain.verification_status = Domain.Verification.VERIFIED
        domain.verification_method = result.method
        domain.verification_error = ""
        domain.verified_at = domain.verified_at or now
    elif domain.is_verified:
        # A verified domain stays verified: DNS blips must not take a site offline.
        domain.verification_error = result.message[:500]
    else:
        # New DNS records take time to appear: wait for them before calling it a failure.
        give_up_at = domain.created_at + timedelta(hours=settings.DOMAIN_VERIFY_GIVE_UP_HOURS)
        domain.verification_status = (
            Domain.Verification.FAILED if now >= give_up_at else Domain.Verification.PENDING
        )
        domain.verification_error = result.message[:500]
    try:
        with transaction.atomic():
            domain.save()
    except IntegrityError:
        domain.verification_status = Domain.Verification.FAILED
        domain.verification_error = "This domain is verified by another account."
        Domain.objects.filter(pk=domain.pk).update(
            verification_status=domain.verification_status,
            verification_error=domain.verification_error,
            verification_checked_at=now,
        )
        return domain
    if became_verified:
        if domain.site_id:
            announce_routes(domain.site_id)
            _ensure_primary(domain.site_id)
            domain.is_primary = Domain.objects.filter(pk=domain.pk, is_primary=True).exists()
        certificates.certificate_request_auto(domain=domain)
    return domain


def domains_verify_due(*, older_than: timedelta | None = None) -> int:
    """Re-check pending and failed domains not checked recently (the periodic task)."""
    older_than = older_than or timedelta(seconds=settings.DOMAIN_VERIFY_INTERVAL)
    cutoff = timezone.now() - older_than
    due = Domain.objects.exclude(verification_status=Domain.Verification.VERIFIED).filter(
        Q(verification_checked_at__isnull=True) | Q(verification_checked_at__lt=cutoff)
    )
    count = 0
    for domain in due.select_related("site")[:500]:
        domain_verify(domain=domain)
        count += 1
    for domain in Domain.objects.filter(dns_hosted=True).exclude(zone_error=""):
        zones.zone_publish(domain=domain)
    return count


# --- registration upkeep ----------------------------------------------------------------------
def registrations_maintain() -> dict:
    """Daily: charge the renewals of auto-renewing registrations due within 30 days (renewed
    once paid; a failed charge is retried daily and the owners are emailed until the domain
    expires), mark lapsed ones expired (an unpaid renewal is then cancelled: nothing is
    charged), and email expiry reminders."""
    now = timezone.now()
    renewed = expired = reminded = 0
    registered = Domain.objects.filter(registration=Domain.Registration.ACTIVE)
    due = registered.filter(auto_renew=True, expires_at__gt=now, expires_at__lte=now + RENEW_AHEAD)
    for domain in due.select_related("team"):
        try:
            purchase = _auto_renew(domain)
        except ValidationError:
            log.warning("Auto-renewal of %s could not be ordered", domain.name, exc_info=True)
            continue
        renewed += purchase.status == Purchase.Status.FULFILLED
    for domain in registered.filter(expires_at__lte=now):
        domain.registration = Domain.Registration.EXPIRED
        domain.save(update_fields=["registration", "updated_at"])
        expired += 1
        unpaid = billing_selectors.purchase_open(
            kind=Purchase.Kind.DOMAIN_RENEWAL, subject=domain.name
        )
        if unpaid is not None and unpaid.status == Purchase.Status.PENDING:
            purchases.purchase_cancel(
                purchase=unpaid,
                reason=f"Not paid before {domain.display_name} expired: nothing was charged.",
                notice="renewal not paid",
            )
    windows = sorted(settings.DOMAIN_REMINDER_DAYS, reverse=True)
    for domain in registered.filter(expires_at__gt=now).select_related("team"):
        days = domain.days_to_expiry
        window = min((w for w in windows if days < w), default=None)
        if window is None or (domain.reminded_days is not None and domain.reminded_days <= window):
            continue
        if _send_expiry_reminder(domain, days):
            reminded += 1
        domain.reminded_days = window
        domain.save(update_fields=["reminded_days", "updated_at"])
    return {"renewed": renewed, "expired": expired, "reminded": reminded}


def _auto_renew(domain: Domain) -> Purchase:
    """The renewal of ``domain`` for a year, charged unattended (once a day at most)."""
    purchase = billing_selectors.purchase_open(
        kind=Purchase.Kind.DOMAIN_RENEWAL, subject=domain.name
    )
    if purchase is None:
        purchase = _renewal_order(domain=domain, years=1, buyer=None, unattended=True)
    return purchases.purchase_charge(purchase=purchase)


def _send_expiry_reminder(domain: Domain, days: int) -> bool:
    """Email the team's owners (those who want email) that a registration runs out."""
    sent = False
    for owner in team_owners(domain.team):
        prefs = getattr(owner, "preferences", None)
        if prefs is not None and not prefs.email_notifications:
            continue
        context = {
            "domain": domain,
            "days": days,
            "user": owner,
            "url": f"{settings.PANEL_URL}/domains/{domain.pk}/",
        }
        send_mail(
            subject=f"{domain.display_name} expires in {days} day{'s' if days != 1 else ''}",
            message=render_to_string("domains/email/expiry_reminder.txt", context),
            from_email=None,
            recipient_list=[owner.email],
        )
        sent = True
    return sent


# --- certificates -----------------------------------------------------------------------------


def site_certificate_request(
    *,
    user,
    site: Site,
    domain_id=None,
    domain_name: str = "",
    names: list[str] | None = None,
    challenge: str | None = None,
) -> Certificate:
    """Request a certificate for one of ``site``'s custom domains: the one given by id or by
    name, else its primary (then the first by name). Raises ``Domain.DoesNotExist`` when the
    site has no such domain, ValidationError when the domain cannot have one yet."""
    domains = Domain.objects.for_team(site.team_id).filter(site=site).select_related("site")
    if domain_id:
        domains = domains.filter(pk=domain_id)
    elif domain_name:
        try:
            domains = domains.filter(name=normalise_domain(domain_name))
        except ValidationError:
            domains = domains.none()
    else:
        domains = domains.order_by("-is_primary", "name")
    domain = domains.first()
    if domain is None:
        raise Domain.DoesNotExist("Attach a custom domain to this site before requesting SSL.")
    return certificates.certificate_request(domain=domain, names=names, challenge=challenge)


def certificates_retry(*, queryset) -> int:
    """Give failed certificates a fresh set of attempts and queue every pending one now.

    Returns how many failed certificates were restarted (the operators' "Retry now")."""
    restarted = queryset.filter(status=Certificate.Status.FAILED).update(
        status=Certificate.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    for cert in queryset.filter(status=Certificate.Status.PENDING):
        certificates.certificate_enqueue(cert)
    return restarted
