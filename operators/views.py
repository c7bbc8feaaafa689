"""The operators' pages: every user (search, status filter), one user's teams and sites, and
suspending or reinstating them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from monitoring.views import operator_required
from operators import selectors, services
from operators.forms import TransactionFilterForm


def _user_or_404(pk):
    try:
        return selectors.user_get(pk=pk)
    except (ValidationError, ValueError, get_user_model().DoesNotExist):
        raise Http404("No such user.") from None


@operator_required
@require_GET
def user_list(request):
    search = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    status = status if status in selectors.STATUSES else ""
    users = selectors.user_list(search=search, status=status)
    page = Paginator(users, 25).get_page(request.GET.get("page"))
    context = {"page": page, "search": search, "status": status}
    return render(request, "operators/user_list.html", context)


@operator_required
@require_GET
def user_detail(request, pk):
    person = _user_or_404(pk)
    context = {
        "person": person,
        "status": selectors.user_status(person),
        "memberships": selectors.user_memberships(user=person),
        "sites": selectors.user_sites(user=person).select_related("team"),
    }
    return render(request, "operators/user_detail.html", context)


@operator_required
@require_POST
def user_suspend(request, pk):
    person = _user_or_404(pk)
    try:
        services.user_suspend(user=person, actor=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{person.email} is suspended: they cannot sign in.")
    return redirect("operators:user-detail", pk=person.pk)


@operator_required
@require_POST
def user_unsuspend(request, pk):
    person = _user_or_404(pk)
    services.user_unsuspend(user=person, actor=request.user, request=request)
    messages.success(request, f"{person.email} can sign in again.")
    return redirect("operators:user-detail", pk=person.pk)


@operator_required
@require_GET
def site_list(request):
    search = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    status = status if status in dict(selectors.site_statuses()) else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in dict(selectors.site_kinds()) else ""
    sites = selectors.site_list(search=search, status=status, kind=kind)
    page = Paginator(sites, 25).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "status": status,
        "kind": kind,
        "statuses": selectors.site_statuses(),
        "kinds": selectors.site_kinds(),
    }
    return render(request, "operators/site_list.html", context)


@operator_required
@require_GET
def transaction_list(request):
    form = TransactionFilterForm(request.GET, kinds=selectors.transaction_kinds())
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.transaction_list(
        team_id=filters.get("team"),
        kind=filters.get("type") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    return render(request, "operators/transaction_list.html", {"page": page, "form": form})
