"""Plans and their limits, a team's subscription, invoices, the ledger, and Stripe's events."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from teams.querysets import TeamScopedQuerySet

# Each limit a plan carries: field name -> (what it counts, unit shown to people).
LIMITS = {
    "sites": ("Sites", ""),
    "wordpress_sites": ("WordPress sites", ""),
    "storage_per_site_mb": ("Storage per site", "MB"),
    "bandwidth_gb": ("Bandwidth per site per month", "GB"),
    "build_minutes": ("Build minutes per month", "min"),
    "concurrent_builds": ("Concurrent builds", ""),
    "custom_domains": ("Custom domains", ""),
    "members": ("Team members", ""),
    "backup_retention_days": ("Backup retention", "days"),
}

MONEY = {"max_digits": 12, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}
currency_code = RegexValidator(r"^[A-Z]{3}$", "A three-letter ISO currency code, e.g. USD.")


def _limit_field(help_text: str):
    return models.PositiveIntegerField(
        null=True, blank=True, help_text=f"{help_text} Empty: unlimited."
    )


class Plan(models.Model):
    """What a team may have and what it costs; operators define and edit plans in the admin."""

    key = models.SlugField(
        max_length=40, unique=True, help_text="Its name in the API, e.g. free, standard."
    )
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    price_monthly = models.DecimalField(default=Decimal("0"), **MONEY)
    price_yearly = models.DecimalField(default=Decimal("0"), **MONEY)
    currency = models.CharField(max_length=3, default="USD", validators=[currency_code])
    public = models.BooleanField(default=True, help_text="Offered to customers on their page.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on the page.")
    stripe_price_monthly = models.CharField(
        max_length=100, blank=True, help_text="Stripe price id (price_...) of the monthly price."
    )
    stripe_price_yearly = models.CharField(max_length=100, blank=True)

    sites = _limit_field("Sites a team may have.")
    wordpress_sites = _limit_field("WordPress sites a team may have.")
    storage_per_site_mb = _limit_field("MB of files each site may keep.")
    bandwidth_gb = _limit_field("GB each site may serve per calendar month.")
    build_minutes = _limit_field("Minutes of builds a team may run per calendar month.")
    concurrent_builds = _limit_field("Builds a team may run at once; more wait queued.")
    custom_domains = _limit_field("Domains a team may add or register.")
    members = _limit_field("Members of a team, pending invitations included.")
    backup_retention_days = _limit_field("Days backups are kept.")

    class Overage(models.TextChoices):
        NOTIFY = "notify", "Tell the owners, keep serving"
        THROTTLE = "throttle", "Slow the site down until next month or an upgrade"
        OFFLINE = "offline", "Take the site offline until next month or an upgrade"

    bandwidth_overage = models.CharField(
        max_length=10,
        choices=Overage.choices,
        default=Overage.NOTIFY,
        help_text="What happens to a site that serves more than its monthly bandwidth.",
    )
    throttle_kbps = models.PositiveIntegerField(
        default=64,
        validators=[MinValueValidator(1)],
        help_text="With “slow the site down”: KB per second each response is served at.",
    )

    # PHP limits of the team's WordPress sites: where a new site starts and how far its owner
    # may raise them. Empty: the installation's WORDPRESS_* settings.
    php_memory_mb = models.PositiveIntegerField(
        null=True, blank=True, help_text="PHP memory_limit of each WordPress site, in MB."
    )
    php_upload_mb = models.PositiveIntegerField(
        null=True, blank=True, help_text="Largest upload into each WordPress site, in MB."
    )
    php_execution_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="PHP max_execution_time of each WordPress site."
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "price_monthly", "key"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return not self.price_monthly and not self.price_yearly

    def price(self, interval: str) -> Decimal:
        return self.price_yearly if interval == Subscription.Interval.YEAR else self.price_monthly

    def limit(self, name: str) -> int | None:
        if name not in LIMITS:
            raise ValueError(f"Unknown plan limit {name!r}")
        return getattr(self, name)

    @property
    def storage_bytes(self) -> int | None:
        mb = self.storage_per_site_mb
        return None if mb is None else mb * 1024 * 1024

    @property
    def bandwidth_bytes(self) -> int | None:
        gb = self.bandwidth_gb
        return None if gb is None else gb * 1024**3


class SubscriptionQuerySet(TeamScopedQuerySet):
    team_path = "team"


class Subscription(models.Model):
    """The plan a team is on, who collects for it, and where payment stands."""

    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    class Provider(models.TextChoices):
        BUILTIN = "builtin", "Invoices from the operator"
        STRIPE = "stripe", "Stripe"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        TRIALING = "trialing", "Trial"
        PAST_DUE = "past_due", "Payment overdue"
        SUSPENDED = "suspended", "Suspended"
        CANCELED = "canceled", "Cancelled"
        INCOMPLETE = "incomplete", "Awaiting payment"

    # Statuses whose team keeps the plan's limits (a suspended or cancelled one falls back).
    GOOD_STANDING = (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.OneToOneField("teams.Team", on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.MONTH)
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.BUILTIN)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, db_index=True)
    # Stripe's time of the newest state applied: an older event never overwrites a newer one.
    stripe_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.team} on {self.plan}"

    @property
    def in_good_standing(self) -> bool:
        return self.status in self.GOOD_STANDING


class InvoiceQuerySet(TeamScopedQuerySet):
    team_path = "team"


class Invoice(models.Model):
    """A bill to a team: issued by the built-in provider, or mirrored from Stripe."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        UNCOLLECTIBLE = "uncollectible", "Uncollectible"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(
        "teams.Team", null=True, on_delete=models.SET_NULL, related_name="invoices"
    )
    team_name = models.CharField(max_length=100, help_text="Kept after the team is deleted.")
    number = models.CharField(max_length=40, unique=True, help_text="In sequence, never reused.")
    provider = models.CharField(
        max_length=10, choices=Subscription.Provider.choices, default=Subscription.Provider.BUILTIN
    )
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL)
    currency = models.CharField(max_length=3, validators=[currency_code])
    subtotal = models.DecimalField(**MONEY)
    tax = models.DecimalField(default=Decimal("0"), **MONEY)
    total = models.DecimalField(**MONEY)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    stripe_invoice_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    hosted_url = models.URLField(max_length=500, blank=True)
    stripe_pdf_url = models.URLField(max_length=500, blank=True)
    stripe_synced_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-number"]
        indexes = [models.Index(fields=["team", "-issued_at"])]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        amounts = (self.total, self.subtotal, self.tax)
        if None not in amounts and self.total != self.subtotal + self.tax:
            raise ValidationError({"total": "The total is the subtotal plus tax."})


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.description


class InvoiceCounter(models.Model):
    """The last invoice number used (one row, locked while numbering)."""

    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Last invoice number: {self.last}"


class TransactionQuerySet(TeamScopedQuerySet):
    team_path = "team"


class Transaction(models.Model):
    """One money movement: a charge, a refund, a credit or a failed payment (the ledger)."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        CREDIT = "credit", "Credit"
        FAILED_PAYMENT = "failed_payment", "Failed payment"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    team_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, validators=[currency_code])
    description = models.CharField(max_length=300)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    provider = models.CharField(
        max_length=10, choices=Subscription.Provider.choices, default=Subscription.Provider.BUILTIN
    )
    reference = models.CharField(
        max_length=120,
        null=True,
        blank=True,
        unique=True,
        help_text="The provider's id for it (a Stripe event or charge); recorded once.",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency} ({self.team_name})"


class StripeEvent(models.Model):
    """A webhook delivery from Stripe, kept by its id with what applying it did."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        APPLIED = "applied", "Applied"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    created = models.DateTimeField(help_text="When Stripe made the event.")
    payload = models.JSONField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    message = models.CharField(max_length=500, blank=True)
    deliveries = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(event_id=""), name="billing_event_has_id"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class UsageNotice(models.Model):
    """An email telling a team's owners a limit is nearly or fully used, sent once per limit,
    site, month and level; for a site taken offline or slowed down over its bandwidth, when it
    came back."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="usage_notices")
    site = models.ForeignKey(
        "hosting.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    limit = models.CharField(max_length=40)
    month = models.DateField(help_text="The first day of the month it is about.")
    level = models.PositiveSmallIntegerField(help_text="Percent of the limit: 80 or 100.")
    took_offline = models.BooleanField(default=False)
    throttled = models.BooleanField(default=False, help_text="The site was slowed down.")
    restored_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "site", "limit", "month", "level"],
                name="billing_one_notice",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.limit} at {self.level}% ({self.month:%Y-%m})"


class PurchaseQuerySet(TeamScopedQuerySet):
    team_path = "team"


class Purchase(models.Model):
    """Something a team buys once (a domain registration or renewal): paid first, delivered
    only once the payment is confirmed, and never delivered twice.

    The flow: ``pending`` (awaiting payment: a Stripe Checkout session or a built-in invoice)
    -> ``paid`` -> ``fulfilling`` -> ``fulfilled``; a payment abandoned, declined for good or
    an invoice voided ends ``canceled`` (nothing charged, nothing delivered); a paid purchase
    that could not be delivered ends ``failed`` and is refunded."""

    class Kind(models.TextChoices):
        DOMAIN_REGISTRATION = "domain_registration", "Domain registration"
        DOMAIN_RENEWAL = "domain_renewal", "Domain renewal"

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        FULFILLING = "fulfilling", "Being delivered"
        FULFILLED = "fulfilled", "Done"
        CANCELED = "canceled", "Cancelled, nothing charged"
        FAILED = "failed", "Paid but not delivered (refunded)"

    OPEN = (Status.PENDING, Status.PAID, Status.FULFILLING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="purchases")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    subject = models.CharField(
        max_length=253, help_text="What is bought (a domain name); one open purchase each."
    )
    description = models.CharField(max_length=300)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3, validators=[currency_code])
    details = models.JSONField(default=dict, blank=True, help_text="What delivering it needs.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    message = models.CharField(max_length=500, blank=True, help_text="What happened, in words.")
    provider = models.CharField(
        max_length=10, choices=Subscription.Provider.choices, default=Subscription.Provider.BUILTIN
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    checkout_url = models.URLField(max_length=1000, blank=True)
    stripe_checkout_session_id = models.CharField(
        max_length=200, null=True, blank=True, unique=True
    )
    stripe_payment_intent_id = models.CharField(max_length=200, blank=True)
    payment_attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PurchaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=Q(status__in=["pending", "paid", "fulfilling"]),
                name="billing_one_open_purchase",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN
