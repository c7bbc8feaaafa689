"""The Cloud Haven client's billing endpoints (``/api/billing/...``) and the operators' ledger
(``/api/admin/transactions``). Views only translate; the decisions are in billing.services,
billing.payments and billing.selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import payments, purchases, selectors, services
from billing.api import serializers as api
from billing.limits import COUNTED
from billing.models import Plan, Purchase
from controlpanel.api.exceptions import ApiError
from controlpanel.api.pagination import PagePagination
from controlpanel.api.permissions import OperatorOnly
from controlpanel.api.schema import error
from controlpanel.api.views import validated
from teams.context import current_team
from teams.permissions import BILLING_MANAGE, BILLING_VIEW, DOMAIN_MANAGE, authorize

NOT_CONFIGURED = error("PAYMENT_NOT_CONFIGURED: online payment is not set up; ask the operator.")


def _team(request, action: str):
    team = current_team(request)
    authorize(request.user, action, team)
    return team


class PlanListView(APIView):
    @extend_schema(responses={200: api.PlansResponseSerializer}, tags=["billing"])
    def get(self, request):
        team = current_team(request)
        context = {"current_plan_id": selectors.plan_of(team).pk if team else None}
        plans = selectors.plan_list()
        return Response({"plans": api.PlanSerializer(plans, many=True, context=context).data})


class SubscriptionView(APIView):
    @extend_schema(responses={200: api.SubscriptionResponseSerializer}, tags=["billing"])
    def get(self, request):
        usage = selectors.team_usage(team=_team(request, BILLING_VIEW))
        subscription = usage.subscription
        return Response(
            {
                "plan": usage.plan.key,
                "status": subscription.status if subscription else "active",
                "onlinePayment": selectors.stripe_configured(),
                "subscription": api.SubscriptionSerializer(subscription).data
                if subscription
                else None,
            }
        )


class SubscribeView(APIView):
    @extend_schema(
        request=api.SubscribeRequestSerializer,
        responses={
            200: api.SubscribeResponseSerializer,
            404: error("PLAN_NOT_FOUND: no plan with that id is offered."),
            409: NOT_CONFIGURED,
        },
        tags=["billing"],
    )
    def post(self, request):
        team = _team(request, BILLING_MANAGE)
        data = validated(api.SubscribeRequestSerializer, request)
        try:
            plan = selectors.plan_get(key=data["plan"])
        except Plan.DoesNotExist:
            raise ApiError(404, "PLAN_NOT_FOUND", "No plan with that id is offered.") from None
        if plan.is_free:
            subscription = services.subscription_choose_free(
                team=team, plan=plan, actor=request.user, request=request
            )
            body = {"status": "active", "checkoutUrl": None}
            body["subscription"] = api.SubscriptionSerializer(subscription).data
            return Response(body)
        if not selectors.stripe_configured():
            raise ApiError(
                409,
                "PAYMENT_NOT_CONFIGURED",
                "Online payment is not configured here: ask the operator to put your team on "
                f"the {plan.name} plan (they send an invoice).",
            )
        url = payments.checkout_start(
            team=team, plan=plan, interval=data["interval"], actor=request.user
        )
        return Response({"status": "checkout", "checkoutUrl": url, "subscription": None})


class PortalView(APIView):
    @extend_schema(
        request=None,
        responses={200: api.PortalResponseSerializer, 409: NOT_CONFIGURED},
        tags=["billing"],
    )
    def post(self, request):
        team = _team(request, BILLING_MANAGE)
        if not selectors.stripe_configured():
            raise ApiError(409, "PAYMENT_NOT_CONFIGURED", "Online payment is not configured.")
        return Response({"url": payments.portal_url(team=team)})


class UsageView(APIView):
    @extend_schema(responses={200: api.TeamUsageResponseSerializer}, tags=["billing"])
    def get(self, request):
        usage = selectors.team_usage(team=_team(request, BILLING_VIEW))
        counted = {
            name: {"used": usage.allowances[name].used, "limit": usage.allowances[name].limit}
            for name in COUNTED
        }
        return Response(
            {
                "plan": usage.plan.key,
                "usage": api.TeamUsageSerializer(counted).data,
                "storage": {"used": usage.storage_used},
                "bandwidth": {"used": usage.bandwidth_used},
                "backups": {"used": usage.backup_storage},
            }
        )


class InvoiceListView(APIView):
    results_key = "invoices"

    @extend_schema(responses={200: api.InvoicePageSerializer}, tags=["billing"])
    def get(self, request):
        team = _team(request, BILLING_VIEW)
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.invoice_list(team=team), request, view=self)
        data = api.InvoiceSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class TransactionListView(APIView):
    """Operators only: every team's money movements."""

    permission_classes = [OperatorOnly]
    results_key = "transactions"

    @extend_schema(
        parameters=[api.TransactionQuerySerializer],
        responses={200: api.TransactionPageSerializer},
        tags=["admin"],
    )
    def get(self, request):
        query = api.TransactionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        rows = selectors.transaction_list(
            team_id=filters.get("team"),
            kind=filters.get("type", ""),
            since=filters.get("since"),
            until=filters.get("until"),
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(api.TransactionSerializer(page, many=True).data)


PURCHASE_NOT_FOUND = error("PURCHASE_NOT_FOUND: no such order of yours.")


def purchase_response(purchase: Purchase) -> Response:
    """202: the order awaits its payment (pay at ``checkoutUrl``, or the invoice)."""
    body = {
        "status": "awaiting_payment",
        "checkoutUrl": purchase.checkout_url or None,
        "purchase": api.PurchaseSerializer(purchase).data,
    }
    return Response(body, status=status.HTTP_202_ACCEPTED)


def _purchase(request, pk, action: str = BILLING_VIEW) -> Purchase:
    try:
        purchase = selectors.purchase_get(user=request.user, pk=pk)
    except Purchase.DoesNotExist:
        raise ApiError(404, "PURCHASE_NOT_FOUND", "No such order.") from None
    authorize(request.user, action, purchase)
    return purchase


class PurchaseDetailView(APIView):
    """``GET /api/billing/purchases/<id>``: an order paid before it is done, and its state."""

    @extend_schema(
        responses={200: api.PurchaseSerializer, 404: PURCHASE_NOT_FOUND}, tags=["billing"]
    )
    def get(self, request, pk):
        return Response(api.PurchaseSerializer(_purchase(request, pk)).data)


class PurchaseCancelView(APIView):
    """``POST /api/billing/purchases/<id>/cancel``: nothing is charged, nothing done."""

    @extend_schema(
        request=None,
        responses={200: api.PurchaseSerializer, 404: PURCHASE_NOT_FOUND},
        tags=["billing"],
    )
    def post(self, request, pk):
        purchase = purchases.purchase_cancel(
            purchase=_purchase(request, pk, DOMAIN_MANAGE),
            reason="Cancelled by the customer: nothing was charged.",
        )
        return Response(api.PurchaseSerializer(purchase).data)
