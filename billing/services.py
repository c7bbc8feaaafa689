"""Every write of billing: plans, subscriptions, invoices and the ledger.

The billing page, the API, the admin, Stripe's webhooks and the reconciliation all call these.
Amounts are ``Decimal`` in the plan's currency; every money movement is a ``Transaction`` row.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import timezone

from billing.limits import (
    month_start,
    plan_allows,
    plan_defaults,
    plan_of,
    site_bandwidth_limit,
    site_storage_limit,
    upgrade_url,
)
from billing.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Plan,
    Subscription,
    Transaction,
    UsageNotice,
)
from billing.signals import invoice_paid, invoice_voided
from deployments.models import Deployment
from hosting.hostnames import hostnames_changed
from hosting.models import Site, SiteBandwidth
from hosting.services import site_set_offline, site_set_rate_limit
from teams.audit import audit_record
from teams.models import Team
from teams.selectors import team_owners

CENT = Decimal("0.01")


# --- plans ------------------------------------------------------------------------------------
def plans_seed() -> list[Plan]:
    """Create the plans of settings.BILLING_PLANS that do not exist yet (never overwrites an
    operator's edits)."""
    made = []
    for key in settings.BILLING_PLANS:
        plan, created = Plan.objects.get_or_create(key=key, defaults=plan_defaults(key))
        if created:
            made.append(plan)
    return made


def plan_limits_apply(*, team: Team) -> int:
    """Copy the team's plan's storage and bandwidth limits onto its sites; returns how many
    sites changed."""
    plan = plan_of(team)
    return (
        Site.objects.filter(team=team)
        .exclude(storage_limit=site_storage_limit(plan), bandwidth_limit=site_bandwidth_limit(plan))
        .update(
            storage_limit=site_storage_limit(plan),
            bandwidth_limit=site_bandwidth_limit(plan),
            updated_at=timezone.now(),
        )
    )


def serving_changed(*, team: Team) -> None:
    """After commit, make the site servers and the edge read the team's sites again (a
    suspension shows the "suspended" page; a restoration serves them again)."""
    for site_id in Site.objects.filter(team=team).values_list("pk", flat=True):
        transaction.on_commit(
            lambda site_id=site_id: hostnames_changed.send(sender=Site, site_id=site_id)
        )


def plan_changed(*, plan: Plan) -> int:
    """An operator edited ``plan``: its storage and bandwidth hold at once on the sites of
    every team on it. Returns how many sites changed."""
    on_plan = Q(subscription__plan=plan) & ~Q(subscription__status=Subscription.Status.CANCELED)
    if plan.key == settings.BILLING_DEFAULT_PLAN:
        on_plan |= Q(subscription__isnull=True) | Q(
            subscription__status=Subscription.Status.CANCELED
        )
    teams = Team.objects.filter(on_plan).values("pk")
    return Site.objects.filter(team__in=teams).update(
        storage_limit=site_storage_limit(plan),
        bandwidth_limit=site_bandwidth_limit(plan),
        updated_at=timezone.now(),
    )


# --- subscriptions ------------------------------------------------------------------------------
def _period_end(start, interval: str):
    if interval == Subscription.Interval.YEAR:
        try:
            return start.replace(year=start.year + 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year + 1, day=28)
    month = start.month % 12 + 1
    year = start.year + (start.month == 12)
    day = min(start.day, 28)
    return start.replace(year=year, month=month, day=day)


def subscription_set(
    *,
    team: Team,
    plan: Plan,
    interval: str = Subscription.Interval.MONTH,
    provider: str = Subscription.Provider.BUILTIN,
    status: str = Subscription.Status.ACTIVE,
    actor=None,
    request=None,
    **fields,
) -> Subscription:
    """Put ``team`` on ``plan``: its limits change at once everywhere (counted limits are read
    from the plan on every check; storage and bandwidth are copied onto its sites)."""
    if interval not in Subscription.Interval.values:
        raise ValidationError({"interval": ["Choose month or year."]})
    now = timezone.now()
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).values_list("pk").first()
        previous = Subscription.objects.filter(team=team).select_related("plan").first()
        defaults = {
            "plan": plan,
            "interval": interval,
            "provider": provider,
            "status": status,
            "cancel_at_period_end": False,
            "past_due_since": None,
            "suspended_at": None,
            **fields,
        }
        if previous is None or previous.plan_id != plan.pk or previous.interval != interval:
            defaults.setdefault("current_period_start", now)
            defaults.setdefault("current_period_end", _period_end(now, interval))
        subscription, _ = Subscription.objects.update_or_create(team=team, defaults=defaults)
        plan_limits_apply(team=team)
        was_suspended = previous is not None and previous.status == Subscription.Status.SUSPENDED
        if was_suspended != (subscription.status == Subscription.Status.SUSPENDED):
            serving_changed(team=team)
        audit_record(
            team=team,
            actor=actor,
            action="billing.plan",
            obj=subscription,
            request=request,
            details={
                "plan": plan.key,
                "interval": interval,
                "from": previous.plan.key if previous else None,
                "provider": provider,
            },
        )
    return subscription


def subscription_assign(
    *, team: Team, plan: Plan, interval: str = Subscription.Interval.MONTH, actor=None, request=None
) -> Subscription:
    """An operator puts a team on a plan (the built-in provider): a paid plan issues the first
    period's invoice, which the operator marks paid when the money arrives."""
    subscription = subscription_set(
        team=team, plan=plan, interval=interval, actor=actor, request=request
    )
    if plan.price(interval) > 0:
        invoice_issue_for_period(subscription=subscription)
    return subscription


def subscription_choose_free(*, team: Team, plan: Plan, actor, request=None) -> Subscription:
    """A customer moves to a free plan: applied at once, nothing to pay."""
    if not plan.is_free or not plan.public:
        raise ValidationError({"plan": ["Choose one of the free plans offered."]})
    current = Subscription.objects.filter(team=team).first()
    paying = current is not None and current.provider == Subscription.Provider.STRIPE
    if paying and current.status in Subscription.GOOD_STANDING:
        raise ValidationError(
            {"plan": ["Cancel the paid subscription in the customer portal first."]}
        )
    return subscription_set(team=team, plan=plan, actor=actor, request=request)


# --- invoices -----------------------------------------------------------------------------------
def invoice_number_next() -> str:
    """The next number in the one sequence (locked: two invoices never share a number)."""
    with transaction.atomic():
        counter = InvoiceCounter.objects.select_for_update().filter(pk=1).first()
        if counter is None:
            try:
                with transaction.atomic():
                    InvoiceCounter.objects.create(pk=1, last=0)
            except IntegrityError:
                pass
            counter = InvoiceCounter.objects.select_for_update().get(pk=1)
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{settings.BILLING_INVOICE_PREFIX}{counter.last:06d}"


def _tax_of(subtotal: Decimal) -> Decimal:
    rate = Decimal(str(settings.BILLING_TAX_PERCENT)) / 100
    return (subtotal * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def invoice_issue(
    *,
    team: Team,
    lines: list[tuple[str, int, Decimal]],
    currency: str,
    plan: Plan | None = None,
    period_start=None,
    period_end=None,
) -> Invoice:
    """Issue a built-in invoice of ``lines`` (description, quantity, unit amount)."""
    if not lines:
        raise ValidationError("An invoice needs at least one line.")
    now = timezone.now()
    with transaction.atomic():
        subtotal = sum((Decimal(q) * Decimal(u) for _, q, u in lines), Decimal("0"))
        subtotal = subtotal.quantize(CENT)
        tax = _tax_of(subtotal)
        invoice = Invoice(
            team=team,
            team_name=team.name,
            number=invoice_number_next(),
            provider=Subscription.Provider.BUILTIN,
            status=Invoice.Status.OPEN,
            plan=plan,
            currency=currency,
            subtotal=subtotal,
            tax=tax,
            total=subtotal + tax,
            period_start=period_start,
            period_end=period_end,
            issued_at=now,
            due_at=now + timedelta(days=settings.BILLING_INVOICE_DUE_DAYS),
        )
        invoice.full_clean()
        invoice.save(force_insert=True)
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                description=description,
                quantity=quantity,
                unit_amount=Decimal(unit),
                amount=(Decimal(quantity) * Decimal(unit)).quantize(CENT),
                period_start=period_start,
                period_end=period_end,
            )
            for description, quantity, unit in lines
        )
    return invoice


def invoice_issue_for_period(*, subscription: Subscription) -> Invoice:
    """The invoice of the subscription's current period (one per period)."""
    plan = subscription.plan
    existing = Invoice.objects.filter(
        team=subscription.team,
        plan=plan,
        period_start=subscription.current_period_start,
        provider=Subscription.Provider.BUILTIN,
    ).first()
    if existing is not None:
        return existing
    interval = Subscription.Interval(subscription.interval).label.lower()
    return invoice_issue(
        team=subscription.team,
        lines=[(f"{plan.name} plan ({interval})", 1, plan.price(subscription.interval))],
        currency=plan.currency,
        plan=plan,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
    )


def invoice_mark_paid(*, invoice: Invoice, actor=None, request=None) -> Invoice:
    """An operator records the payment of a built-in invoice: the ledger gets the charge, and a
    team suspended or overdue for it is restored."""
    with transaction.atomic():
        updated = Invoice.objects.filter(
            pk=invoice.pk,
            provider=Subscription.Provider.BUILTIN,
            status=Invoice.Status.OPEN,
        ).update(status=Invoice.Status.PAID, paid_at=timezone.now())
        if not updated:
            invoice.refresh_from_db()
            raise ValidationError(f"Invoice {invoice.number} is {invoice.get_status_display()}.")
        invoice.refresh_from_db()
        transaction_record(
            team=invoice.team,
            kind=Transaction.Kind.CHARGE,
            amount=invoice.total,
            currency=invoice.currency,
            description=f"Payment of invoice {invoice.number}",
            invoice=invoice,
            recorded_by=actor,
        )
        invoice_paid.send(sender=Invoice, invoice=invoice)
        if invoice.team is not None:
            subscription_payment_succeeded(team=invoice.team)
            audit_record(
                team=invoice.team,
                actor=actor,
                action="billing.invoice_paid",
                obj=invoice,
                request=request,
                details={"number": invoice.number, "total": str(invoice.total)},
            )
    return invoice


def invoice_void(*, invoice: Invoice, actor=None, request=None) -> Invoice:
    if invoice.provider != Subscription.Provider.BUILTIN or invoice.status != Invoice.Status.OPEN:
        raise ValidationError("Only an open invoice of the built-in provider can be voided.")
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.VOID)
    invoice.refresh_from_db()
    invoice_voided.send(sender=Invoice, invoice=invoice)
    if invoice.team is not None:
        audit_record(
            team=invoice.team,
            actor=actor,
            action="billing.invoice_void",
            obj=invoice,
            request=request,
            details={"number": invoice.number},
        )
    return invoice


# --- payment standing -----------------------------------------------------------------------
def tell_owners(team: Team, subject: str, template: str, context: dict) -> None:
    recipients = [user.email for user in team_owners(team)]
    if not recipients:
        return
    context = {"team": team, "billing_url": upgrade_url(), **context}
    body = render_to_string(template, context)
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Berth: {subject}",
            message=body,
            from_email=None,
            recipient_list=recipients,
            fail_silently=True,
        )
    )


def subscription_past_due_notice(*, subscription: Subscription) -> None:
    """Tell the owners a payment failed and when the team will be suspended (sent when the
    subscription becomes overdue, before anything is refused)."""
    since = subscription.past_due_since or timezone.now()
    tell_owners(
        subscription.team,
        f"payment failed for {subscription.team.name}",
        "billing/email/past_due.txt",
        {"suspend_on": since + timedelta(days=settings.BILLING_GRACE_DAYS)},
    )


def subscriptions_enforce(*, now=None) -> list[Subscription]:
    """Suspend every team whose payment has been overdue longer than BILLING_GRACE_DAYS
    (its data is kept; builds and new objects are refused) and tell its owners. Returns the
    subscriptions suspended. Run hourly by Celery beat."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BILLING_GRACE_DAYS)
    due = Subscription.objects.filter(
        status=Subscription.Status.PAST_DUE, past_due_since__lte=cutoff
    ).select_related("team", "plan")
    suspended = []
    for subscription in due:
        with transaction.atomic():
            claimed = Subscription.objects.filter(
                pk=subscription.pk, status=Subscription.Status.PAST_DUE
            ).update(status=Subscription.Status.SUSPENDED, suspended_at=now)
            if not claimed:
                continue
            serving_changed(team=subscription.team)
            audit_record(
                team=subscription.team,
                action="billing.suspend",
                obj=subscription,
                details={"past_due_since": subscription.past_due_since.isoformat()},
            )
            tell_owners(
                subscription.team,
                f"{subscription.team.name} is suspended",
                "billing/email/suspended.txt",
                {},
            )
            suspended.append(subscription)
    return suspended


def subscription_payment_succeeded(*, team: Team) -> Subscription | None:
    """A payment arrived: an overdue or suspended subscription is active again."""
    subscription = Subscription.objects.filter(team=team).first()
    if subscription is None:
        return None
    if subscription.status in (Subscription.Status.PAST_DUE, Subscription.Status.SUSPENDED):
        Subscription.objects.filter(pk=subscription.pk).update(
            status=Subscription.Status.ACTIVE, past_due_since=None, suspended_at=None
        )
        subscription.refresh_from_db()
        plan_limits_apply(team=team)
        serving_changed(team=team)
    return subscription


# --- the ledger ---------------------------------------------------------------------------------
def transaction_record(
    *,
    team: Team | None,
    kind: str,
    amount: Decimal,
    currency: str,
    description: str,
    invoice: Invoice | None = None,
    provider: str = Subscription.Provider.BUILTIN,
    reference: str | None = None,
    recorded_by=None,
    created_at=None,
) -> Transaction:
    """One ledger row; a ``reference`` (the provider's id) is recorded once however often it
    is reported."""
    if reference:
        existing = Transaction.objects.filter(reference=reference).first()
        if existing is not None:
            return existing
    row = Transaction(
        team=team,
        team_name=team.name if team else (invoice.team_name if invoice else ""),
        kind=kind,
        amount=Decimal(amount).quantize(CENT),
        currency=currency.upper(),
        description=description[:300],
        invoice=invoice,
        provider=provider,
        reference=reference or None,
        recorded_by=recorded_by,
        created_at=created_at or timezone.now(),
    )
    row.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        return Transaction.objects.get(reference=reference)
    return row


# --- usage notices and bandwidth overage ---------------------------------------------------------
WARN_PERCENT = 80


def _level(used: int, limit: int | None) -> int:
    if not limit:
        return 0
    percent = 100 * used / limit
    return 100 if percent >= 100 else WARN_PERCENT if percent >= WARN_PERCENT else 0


def _notice(*, team: Team, site: Site | None, limit: str, month, level: int, context: dict):
    """Record and send one notice, unless it was sent already (returns None then)."""
    try:
        with transaction.atomic():
            notice = UsageNotice.objects.create(
                team=team, site=site, limit=limit, month=month, level=level
            )
    except IntegrityError:
        return None
    what = "used up" if level == 100 else f"{level}% used"
    name = f"{site.name}: bandwidth" if site else "build minutes"
    tell_owners(
        team,
        f"{name} {what} for {team.name}",
        "billing/email/usage.txt",
        {"site": site, "limit": limit, "level": level, **context},
    )
    return notice


def usage_enforce(*, now=None) -> list[UsageNotice]:
    """Hourly: tell owners when a team has used 80% and 100% of its build minutes (builds are
    refused at 100% by the plan check) and when a site has served 80% and 100% of its monthly
    bandwidth; at 100% the plan's ``bandwidth_overage`` acts: "throttle" slows the site down
    to the plan's ``throttle_kbps``, "offline" takes it offline (both told at 80%, before it
    happens). Sites acted on for a past month, or whose limit was raised, come back."""
    now = now or timezone.now()
    first = month_start(now)
    sent = []
    teams = Deployment.objects.filter(finished_at__gte=first, build_duration__isnull=False)
    for team in Team.objects.filter(pk__in=teams.values("site__team_id")):
        allowance = plan_allows(team, "build_minutes", adding=0)
        level = _level(allowance.used, allowance.limit)
        if level:
            context = {"used": f"{allowance.used} min", "total": f"{allowance.limit} min"}
            notice = _notice(
                team=team,
                site=None,
                limit="build_minutes",
                month=first,
                level=level,
                context=context,
            )
            sent += [notice] if notice else []
    served = (
        SiteBandwidth.objects.filter(day__gte=first.date())
        .values("site")
        .annotate(total=Sum("bytes_sent"))
    )
    totals = {row["site"]: row["total"] for row in served}
    for site in Site.objects.filter(pk__in=totals).select_related("team"):
        used = totals[site.pk]
        level = _level(used, site.bandwidth_limit)
        if not level:
            continue
        plan = plan_of(site.team)
        policy = plan.bandwidth_overage
        context = {
            "used": filesizeformat(used),
            "total": filesizeformat(site.bandwidth_limit),
            "offline": policy == Plan.Overage.OFFLINE,
            "throttle": policy == Plan.Overage.THROTTLE,
            "rate": f"{plan.throttle_kbps} KB/s",
        }
        notice = _notice(
            team=site.team, site=site, limit="bandwidth", month=first, level=level, context=context
        )
        if notice is None or level < 100:
            sent += [notice] if notice else []
            continue
        sent.append(notice)
        if policy == Plan.Overage.OFFLINE and site.status != Site.Status.OFFLINE:
            site_set_offline(site=site, offline=True)
            UsageNotice.objects.filter(pk=notice.pk).update(took_offline=True)
        elif policy == Plan.Overage.THROTTLE:
            site_set_rate_limit(site=site, rate=plan.throttle_kbps * 1024)
            UsageNotice.objects.filter(pk=notice.pk).update(throttled=True)
    _restore_sites(first=first, totals=totals, now=now)
    return sent


def _restore_sites(*, first, totals: dict, now) -> None:
    acted = UsageNotice.objects.filter(
        Q(took_offline=True) | Q(throttled=True), restored_at__isnull=True
    ).select_related("site")
    for notice in acted:
        site = notice.site
        new_month = notice.month < first.date()
        under = totals.get(site.pk, 0) < site.bandwidth_limit
        if not (new_month or under):
            continue
        if notice.took_offline and site.status == Site.Status.OFFLINE:
            site_set_offline(site=site, offline=False)
        if notice.throttled and site.rate_limit is not None:
            site_set_rate_limit(site=site, rate=None)
        UsageNotice.objects.filter(pk=notice.pk).update(restored_at=now)
