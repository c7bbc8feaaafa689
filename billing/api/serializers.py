"""The billing API in the Cloud Haven client's spelling (camelCase, plan ids free/standard/...)."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from billing.models import Invoice, Plan, Purchase, Subscription, Transaction
from controlpanel.api.schema import PaginationSerializer


class PlanLimitsSerializer(serializers.Serializer):
    sites = serializers.IntegerField(allow_null=True)
    wordpressSites = serializers.IntegerField(source="wordpress_sites", allow_null=True)
    storagePerSiteMb = serializers.IntegerField(source="storage_per_site_mb", allow_null=True)
    bandwidthGb = serializers.IntegerField(source="bandwidth_gb", allow_null=True)
    buildMinutes = serializers.IntegerField(source="build_minutes", allow_null=True)
    concurrentBuilds = serializers.IntegerField(source="concurrent_builds", allow_null=True)
    customDomains = serializers.IntegerField(source="custom_domains", allow_null=True)
    members = serializers.IntegerField(allow_null=True)
    backupRetentionDays = serializers.IntegerField(source="backup_retention_days", allow_null=True)


class PlanSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="key", help_text="free, standard, enterprise, …")
    priceMonthly = serializers.DecimalField(
        source="price_monthly", max_digits=12, decimal_places=2, coerce_to_string=False
    )
    priceYearly = serializers.DecimalField(
        source="price_yearly", max_digits=12, decimal_places=2, coerce_to_string=False
    )
    limits = PlanLimitsSerializer(source="*", help_text="Empty (null): unlimited.")
    bandwidthOverage = serializers.ChoiceField(
        source="bandwidth_overage",
        choices=Plan.Overage.values,
        help_text="A site over its monthly bandwidth: notify, throttle (slowed down) or offline.",
    )
    throttleKbps = serializers.IntegerField(
        source="throttle_kbps", help_text="With throttle: KB a second per response."
    )
    current = serializers.SerializerMethodField()

    class Meta:
        model = Plan
        fields = ["id", "name", "description", "priceMonthly", "priceYearly", "currency"]
        fields += ["limits", "bandwidthOverage", "throttleKbps", "current"]

    def get_current(self, plan) -> bool:
        return plan.pk == self.context.get("current_plan_id")


class PlansResponseSerializer(serializers.Serializer):
    plans = PlanSerializer(many=True)


class SubscribeRequestSerializer(serializers.Serializer):
    plan = serializers.SlugField(max_length=40, help_text="A plan id from GET /billing/plans.")
    interval = serializers.ChoiceField(
        choices=Subscription.Interval.values, default=Subscription.Interval.MONTH
    )


class SubscriptionSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="plan.key")
    planName = serializers.CharField(source="plan.name")
    currentPeriodStart = serializers.DateTimeField(source="current_period_start", allow_null=True)
    currentPeriodEnd = serializers.DateTimeField(source="current_period_end", allow_null=True)
    cancelAtPeriodEnd = serializers.BooleanField(source="cancel_at_period_end")

    class Meta:
        model = Subscription
        fields = ["plan", "planName", "interval", "status", "provider", "currentPeriodStart"]
        fields += ["currentPeriodEnd", "cancelAtPeriodEnd"]


class SubscriptionResponseSerializer(serializers.Serializer):
    plan = serializers.CharField(help_text="The plan whose limits hold now.")
    status = serializers.CharField(help_text="active, past_due, suspended, … (free: active)")
    onlinePayment = serializers.BooleanField(help_text="Whether Stripe is configured.")
    subscription = SubscriptionSerializer(allow_null=True)


class SubscribeResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["active", "checkout"],
        help_text="active: the plan applies now; checkout: pay at checkoutUrl first.",
    )
    checkoutUrl = serializers.URLField(allow_null=True)
    subscription = SubscriptionSerializer(allow_null=True)


class PortalResponseSerializer(serializers.Serializer):
    url = serializers.URLField()


class LimitUsageSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True)


class TeamUsageSerializer(serializers.Serializer):
    sites = LimitUsageSerializer()
    wordpressSites = LimitUsageSerializer(source="wordpress_sites")
    customDomains = LimitUsageSerializer(source="custom_domains")
    members = LimitUsageSerializer()
    concurrentBuilds = LimitUsageSerializer(source="concurrent_builds")
    buildMinutes = LimitUsageSerializer(source="build_minutes")


class TeamUsageResponseSerializer(serializers.Serializer):
    plan = serializers.CharField()
    usage = TeamUsageSerializer()
    storage = serializers.DictField(
        child=serializers.IntegerField(), help_text="Bytes kept by all sites: {used}."
    )
    bandwidth = serializers.DictField(
        child=serializers.IntegerField(), help_text="Bytes served this month: {used}."
    )
    backups = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Bytes the team's backup repository takes (restic stats): {used}.",
    )


class InvoiceLineSerializer(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unitAmount = serializers.DecimalField(
        source="unit_amount", max_digits=12, decimal_places=2, coerce_to_string=False
    )
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)


def _money():
    return serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)


class InvoiceSerializer(serializers.ModelSerializer):
    subtotal = _money()
    tax = _money()
    total = _money()
    amount = serializers.DecimalField(
        source="total", max_digits=12, decimal_places=2, coerce_to_string=False
    )
    plan = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)
    periodStart = serializers.DateTimeField(source="period_start", allow_null=True)
    periodEnd = serializers.DateTimeField(source="period_end", allow_null=True)
    date = serializers.DateTimeField(source="issued_at")
    dueAt = serializers.DateTimeField(source="due_at", allow_null=True)
    paidAt = serializers.DateTimeField(source="paid_at", allow_null=True)
    hostedUrl = serializers.CharField(source="hosted_url")
    pdfUrl = serializers.SerializerMethodField()
    lines = InvoiceLineSerializer(many=True)

    class Meta:
        model = Invoice
        fields = ["id", "number", "status", "plan", "currency", "subtotal", "tax", "total"]
        fields += ["amount", "periodStart", "periodEnd", "date", "dueAt", "paidAt", "hostedUrl"]
        fields += ["pdfUrl", "lines"]

    def get_pdfUrl(self, invoice) -> str:
        path = reverse("billing:invoice-pdf", args=[invoice.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class InvoicePageSerializer(serializers.Serializer):
    invoices = InvoiceSerializer(many=True)
    pagination = PaginationSerializer()


class TransactionSerializer(serializers.ModelSerializer):
    teamId = serializers.UUIDField(source="team_id", allow_null=True)
    team = serializers.CharField(source="team_name")
    type = serializers.CharField(source="kind", help_text="charge, refund, credit, failed_payment")
    amount = _money()
    invoice = serializers.SlugRelatedField(slug_field="number", read_only=True, allow_null=True)
    date = serializers.DateTimeField(source="created_at")
    status = serializers.SerializerMethodField()

    class Meta:
        model = Transaction
        fields = ["id", "teamId", "team", "type", "amount", "currency", "description", "invoice"]
        fields += ["provider", "reference", "date", "status"]

    def get_status(self, row) -> str:
        return "failed" if row.kind == Transaction.Kind.FAILED_PAYMENT else "completed"


class TransactionQuerySerializer(serializers.Serializer):
    team = serializers.UUIDField(required=False, help_text="Only this team's rows.")
    type = serializers.ChoiceField(choices=Transaction.Kind.values, required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class TransactionPageSerializer(serializers.Serializer):
    transactions = TransactionSerializer(many=True)
    pagination = PaginationSerializer()


class PurchaseSerializer(serializers.ModelSerializer):
    """An order paid before it is done (a domain registration or renewal)."""

    type = serializers.CharField(source="kind")
    amount = _money()
    checkoutUrl = serializers.SerializerMethodField(
        help_text="Stripe's page to pay it, while it awaits payment with Stripe."
    )
    invoice = serializers.CharField(source="invoice.number", allow_null=True, default=None)
    domainId = serializers.CharField(source="details.domain_id", allow_null=True, default=None)
    createdAt = serializers.DateTimeField(source="created_at")
    paidAt = serializers.DateTimeField(source="paid_at", allow_null=True)
    finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)

    class Meta:
        model = Purchase
        fields = ["id", "type", "subject", "description", "amount", "currency", "status"]
        fields += ["message", "checkoutUrl", "invoice", "domainId", "createdAt", "paidAt"]
        fields += ["finishedAt"]

    def get_checkoutUrl(self, purchase) -> str | None:
        pending = purchase.status == Purchase.Status.PENDING
        return purchase.checkout_url if pending and purchase.checkout_url else None


class PurchaseResponseSerializer(serializers.Serializer):
    """What ordering answers while the payment is awaited (202)."""

    status = serializers.CharField(help_text="awaiting_payment")
    checkoutUrl = serializers.CharField(allow_null=True)
    purchase = PurchaseSerializer()
