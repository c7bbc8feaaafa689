"""The billing page (plan, usage meters, plans to choose, invoices), confirming a plan change,
the customer portal, and invoices as pages and PDFs. Owners and admins see it; owners pay."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing import invoices_pdf, payments, purchases, selectors, services
from billing.models import Invoice, Plan, Purchase, Subscription
from teams.context import current_team
from teams.permissions import BILLING_MANAGE, BILLING_VIEW, DOMAIN_MANAGE, authorize, can


def _plan_or_404(key: str) -> Plan:
    try:
        return selectors.plan_get(key=key)
    except Plan.DoesNotExist:
        raise Http404("No such plan.") from None


def _interval(raw: str) -> str:
    return raw if raw in Subscription.Interval.values else Subscription.Interval.MONTH


@login_required
def billing_index(request):
    team = current_team(request)
    authorize(request.user, BILLING_VIEW, team)
    usage = selectors.team_usage(team=team)
    page = Paginator(selectors.invoice_list(team=team), 10).get_page(request.GET.get("page"))
    checkout = request.GET.get("checkout")
    if checkout == "done":
        messages.info(request, "Payment received by Stripe; the plan applies once confirmed.")
    elif checkout == "cancelled":
        messages.info(request, "Checkout cancelled; nothing was charged.")
    plans = [(plan, selectors.limit_rows(plan)) for plan in selectors.plan_list()]
    return render(
        request,
        "billing/index.html",
        {
            "team": team,
            "usage": usage,
            "plans": plans,
            "page": page,
            "orders": selectors.purchase_list(team=team)[:10],
            "online": selectors.stripe_configured(),
            "can_manage": can(request.user, BILLING_MANAGE, team),
        },
    )


@login_required
def subscribe(request):
    """GET: what changing to the plan means and costs, with the button that does it (the
    confirmation before paying). POST: apply a free plan, or go to Stripe Checkout."""
    team = current_team(request)
    authorize(request.user, BILLING_MANAGE, team)
    source = request.POST if request.method == "POST" else request.GET
    plan = _plan_or_404(source.get("plan", ""))
    interval = _interval(source.get("interval", ""))
    online = selectors.stripe_configured()
    if request.method == "POST":
        try:
            if plan.is_free:
                services.subscription_choose_free(
                    team=team, plan=plan, actor=request.user, request=request
                )
                messages.success(request, f"{team.name} is now on the {plan.name} plan.")
                return redirect("billing:index")
            if online:
                url = payments.checkout_start(
                    team=team, plan=plan, interval=interval, actor=request.user
                )
                return redirect(url)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect("billing:index")
    usage = selectors.team_usage(team=team)
    over = [
        (allowance, plan.limit(name))
        for name, allowance in usage.allowances.items()
        if plan.limit(name) is not None and allowance.used > plan.limit(name)
    ]
    return render(
        request,
        "billing/subscribe.html",
        {
            "team": team,
            "plan": plan,
            "interval": interval,
            "price": plan.price(interval),
            "limits": selectors.limit_rows(plan),
            "online": online,
            "current": usage.plan,
            "over": over,
        },
    )


@login_required
@require_POST
def portal(request):
    team = current_team(request)
    authorize(request.user, BILLING_MANAGE, team)
    try:
        return redirect(payments.portal_url(team=team))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("billing:index")


def _invoice(request, pk) -> Invoice:
    try:
        invoice = selectors.invoice_get(user=request.user, pk=pk)
    except Invoice.DoesNotExist:
        raise Http404("No such invoice.") from None
    authorize(request.user, BILLING_VIEW, invoice)
    return invoice


@login_required
def invoice_detail(request, pk):
    invoice = _invoice(request, pk)
    return render(
        request, "billing/invoice.html", {"invoice": invoice, "business": invoices_pdf.business()}
    )


@login_required
def invoice_pdf(request, pk):
    invoice = _invoice(request, pk)
    response = HttpResponse(invoices_pdf.render(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


def _purchase(request, pk, action: str = BILLING_VIEW) -> Purchase:
    try:
        purchase = selectors.purchase_get(user=request.user, pk=pk)
    except Purchase.DoesNotExist:
        raise Http404("No such order.") from None
    authorize(request.user, action, purchase)
    return purchase


@login_required
def purchase_detail(request, pk):
    """An order (a domain registration or renewal): paid or not, done or why not."""
    purchase = _purchase(request, pk)
    checkout = request.GET.get("checkout")
    if checkout == "done" and purchase.status == Purchase.Status.PENDING:
        messages.info(request, "Payment received by Stripe; it is done once Stripe confirms it.")
    elif checkout == "cancelled" and purchase.status == Purchase.Status.PENDING:
        messages.info(request, "Checkout left: nothing was charged. Pay or cancel the order.")
    context = {
        "purchase": purchase,
        "online": selectors.stripe_configured(),
        "can_act": can(request.user, DOMAIN_MANAGE, purchase),
    }
    return render(request, "billing/purchase.html", context)


@login_required
@require_POST
def purchase_pay(request, pk):
    purchase = _purchase(request, pk, DOMAIN_MANAGE)
    try:
        purchase = purchases.purchase_checkout(purchase=purchase)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("billing:purchase", pk=purchase.pk)
    if purchase.status == Purchase.Status.PENDING and purchase.checkout_url:
        return redirect(purchase.checkout_url)
    return redirect("billing:purchase", pk=purchase.pk)


@login_required
@require_POST
def purchase_cancel(request, pk):
    purchase = _purchase(request, pk, DOMAIN_MANAGE)
    try:
        purchase = purchases.purchase_cancel(
            purchase=purchase, reason="Cancelled by the customer: nothing was charged."
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("billing:purchase", pk=purchase.pk)
