"""HTML pages of the domains app: list, search and register, add, detail, zone editor.

Views only parse forms and call services; every lookup goes through selectors (404 for
anyone else's domain).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from billing import selectors as billing_selectors
from billing.limits import plan_allows
from billing.models import Purchase
from controlpanel.forms import act_and_report, errors_to_form, flash_errors
from domains import forms, registrars, selectors, services
from domains.models import DnsRecord, Domain
from teams.context import current_team
from teams.permissions import DNS_MANAGE, DOMAIN_MANAGE, authorize, authorize_request


def _domain(request, pk, write_action: str = DOMAIN_MANAGE) -> Domain:
    """A domain of one of the user's teams, if their role allows this request (reads: any
    member; changes: ``write_action``)."""
    try:
        domain = selectors.domain_get(user=request.user, pk=pk)
    except Domain.DoesNotExist:
        raise Http404("No such domain.") from None
    authorize_request(request, domain, write_action)
    return domain


@login_required
def domain_list(request):
    query = request.GET.get("q", "")
    kind = request.GET.get("filter", "")
    team = current_team(request)
    domains = selectors.domain_list(user=request.user, query=query, kind=kind, team=team)
    page = Paginator(domains, 20).get_page(request.GET.get("page"))
    for domain in page:
        domain.current_certificate = selectors.current_certificate(domain)
    context = {
        "page": page,
        "query": query,
        "kind": kind,
        "expiring": selectors.expiring_registrations(user=request.user, team=team),
        "orders": billing_selectors.purchases_awaiting_payment(team=team),
        "filters": [
            ("", "All"),
            ("registered", "Registered"),
            ("external", "External"),
            ("verified", "Verified"),
            ("pending", "Pending"),
            ("failed", "Failed"),
        ],
    }
    return render(request, "domains/list.html", context)


@login_required
def domain_search(request):
    form = forms.SearchForm(request.GET or None)
    results = suggestions = None
    if form.is_valid():
        try:
            results, suggestions = services.domain_search(query=form.cleaned_data["q"])
        except ValidationError as exc:
            form.add_error("q", exc.messages)
    context = {
        "form": form,
        "results": results,
        "suggestions": suggestions,
        "register_form": forms.RegisterForm(
            sites=selectors.user_sites(user=request.user, team=current_team(request))
        ),
        "tlds": registrars.sold_tlds(),
    }
    return render(request, "domains/search.html", context, status=422 if form.errors else 200)


def _register_confirmation(request, form, quote, *, notice: str = "", status: int = 200):
    """The page that shows what a registration costs and asks to confirm before paying."""
    context = {
        "form": form,
        "quote": quote,
        "site_name": form.site_name(),
        "notice": notice,
        "online": billing_selectors.stripe_configured(),
    }
    return render(request, "domains/register_confirm.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def domain_register(request):
    """GET: the price of a name from the search, to confirm; POST: pay it and register."""
    team = current_team(request)
    authorize(request.user, DOMAIN_MANAGE, team)
    sites = selectors.user_sites(user=request.user, team=team)
    submitted = request.POST if request.method == "POST" else request.GET
    form = forms.RegisterForm(submitted, sites=sites)
    back = f"{reverse('domains:search')}?{urlencode({'q': form.data.get('name', '')[:253]})}"
    if not form.is_valid():
        messages.error(request, "Choose a name and a period to register.")
        return redirect(back)
    data = form.cleaned_data
    try:
        if request.method == "GET":
            quote = services.registration_quote(name=data["name"], years=data["years"])
            return _register_confirmation(request, form, quote)
        purchase = services.domain_register(
            team=team,
            owner=request.user,
            name=data["name"],
            years=data["years"],
            site=data["site"] or None,
            confirm_price=data["confirm_price"],
        )
    except services.PriceNotConfirmed as exc:
        return _register_confirmation(request, form, exc.quote, notice=str(exc), status=409)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect(back)
    return _after_purchase(request, purchase)


def _after_purchase(request, purchase) -> HttpResponse:
    """Where an order goes next: Stripe's Checkout page to pay, the domain when it is done,
    else the order's page (its invoice, or why it failed)."""
    if purchase.status == Purchase.Status.PENDING and purchase.checkout_url:
        return redirect(purchase.checkout_url)
    if purchase.status == Purchase.Status.FULFILLED:
        messages.success(request, purchase.message)
        return redirect("domains:detail", pk=purchase.details["domain_id"])
    return redirect("billing:purchase", pk=purchase.pk)


@login_required
def domain_add(request):
    team = current_team(request)
    authorize(request.user, DOMAIN_MANAGE, team)
    sites = selectors.user_sites(user=request.user, team=team)
    initial = {"site": request.GET.get("site", "")}
    form = forms.AddDomainForm(request.POST or None, sites=sites, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            domain = services.domain_add(
                team=team,
                owner=request.user,
                name=form.cleaned_data["name"],
                site=form.cleaned_data["site"] or None,
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"{domain.display_name} added. Prove it with one DNS record.")
            return redirect("domains:detail", pk=domain.pk)
    context = {"form": form, "allowance": plan_allows(team, "custom_domains", adding=0)}
    return render(request, "domains/add.html", context, status=422 if form.errors else 200)


@login_required
def domain_detail(request, pk):
    domain = _domain(request, pk)
    sites = selectors.user_sites(user=request.user, team=domain.team)
    context = {
        "domain": domain,
        "instructions": selectors.verification_instructions(domain),
        "attach_form": forms.AttachForm(
            sites=sites,
            initial={
                "site": str(domain.site_id or ""),
                "redirect": domain.redirect,
                "is_primary": domain.is_primary,
            },
        ),
        "registration_form": forms.RegistrationForm(
            initial={"auto_renew": domain.auto_renew, "transfer_lock": domain.transfer_lock}
        ),
        "renew_form": forms.RenewForm(),
        "renewal_price": services.renewal_price(domain=domain),
        "nameservers_form": forms.NameserversForm(
            initial={"nameservers": "\n".join(domain.nameservers)}
        ),
        "certificate_form": forms.CertificateForm(),
        "certificates": selectors.certificates_of_domain(domain=domain)[:10],
        "current_certificate": selectors.current_certificate(domain),
        "has_sites": sites.exists(),
        "berth_nameservers": settings.DNS_NAMESERVERS,
    }
    return render(request, "domains/detail.html", context)


@login_required
@require_POST
def domain_verify(request, pk):
    domain = services.domain_verify(domain=_domain(request, pk))
    if domain.is_verified:
        messages.success(request, f"{domain.display_name} is verified.")
    else:
        messages.error(request, f"Not verified yet: {domain.verification_error}")
    return redirect("domains:detail", pk=domain.pk)


def _detail_form_action(request, domain: Domain, form, action, success) -> HttpResponse:
    """A form posted from the domain page: validate, act, report, back to the page."""
    act_and_report(request, action, success, form=form)
    return redirect("domains:detail", pk=domain.pk)


@login_required
@require_POST
def domain_attach(request, pk):
    domain = _domain(request, pk)
    return _detail_form_action(
        request,
        domain,
        forms.AttachForm(
            request.POST, sites=selectors.user_sites(user=request.user, team=domain.team)
        ),
        lambda data: services.domain_update(
            domain=domain,
            site=data["site"] or None,
            redirect=data["redirect"],
            is_primary=data["is_primary"] if data["site"] else None,
        ),
        "Site settings saved.",
    )


@login_required
@require_POST
def domain_registration(request, pk):
    domain = _domain(request, pk)
    return _detail_form_action(
        request,
        domain,
        forms.RegistrationForm(request.POST),
        lambda data: services.domain_update(domain=domain, **data),
        "Registration settings saved.",
    )


@login_required
@require_POST
def domain_renew(request, pk):
    domain = _domain(request, pk)
    form = forms.RenewForm(request.POST)
    if not form.is_valid():
        flash_errors(request, ValidationError(form.errors))
        return redirect("domains:detail", pk=domain.pk)
    try:
        purchase = services.domain_renew(
            domain=domain, years=form.cleaned_data["years"], buyer=request.user
        )
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("domains:detail", pk=domain.pk)
    if purchase.status == Purchase.Status.FULFILLED:
        purchase.details["domain_id"] = str(domain.pk)
    return _after_purchase(request, purchase)


@login_required
@require_POST
def domain_nameservers(request, pk):
    domain = _domain(request, pk)
    return _detail_form_action(
        request,
        domain,
        forms.NameserversForm(request.POST),
        lambda data: services.domain_set_nameservers(
            domain=domain, nameservers=data["nameservers"]
        ),
        "Nameservers saved at the registry.",
    )


@login_required
@require_POST
def domain_dns_enable(request, pk):
    domain = services.domain_dns_enable(domain=_domain(request, pk))
    messages.success(request, f"Berth now hosts the DNS of {domain.display_name}.")
    return redirect("domains:zone", pk=domain.pk)


@login_required
@require_POST
def domain_delete(request, pk):
    domain = _domain(request, pk)
    removed = f"{domain.display_name} removed."
    if act_and_report(request, lambda: services.domain_delete(domain=domain), removed):
        return redirect("domains:list")
    return redirect("domains:detail", pk=domain.pk)


@login_required
@require_POST
def certificate_request(request, pk):
    domain = _domain(request, pk)
    return _detail_form_action(
        request,
        domain,
        forms.CertificateForm(request.POST),
        lambda data: services.certificate_request(domain=domain, names=data["names"] or None),
        "Certificate requested. It is usually ready within a minute.",
    )


# --- zone editor --------------------------------------------------------------------------------
@login_required
def zone(request, pk):
    domain = _domain(request, pk, DNS_MANAGE)
    form = forms.RecordForm(request.POST or None, initial={"ttl": 3600, "name": "@"})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.record_create(domain=domain, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"Added {record.type} record for {record.fqdn}.")
            return redirect("domains:zone", pk=domain.pk)
    context = {
        "domain": domain,
        "records": selectors.record_list(domain=domain),
        "form": form,
        "berth_nameservers": settings.DNS_NAMESERVERS,
    }
    return render(request, "domains/zone.html", context, status=422 if form.errors else 200)


def _record(domain: Domain, record_id) -> DnsRecord:
    try:
        return selectors.record_get(domain=domain, pk=record_id)
    except DnsRecord.DoesNotExist:
        raise Http404("No such record.") from None


@login_required
def record_edit(request, pk, record_id):
    domain = _domain(request, pk, DNS_MANAGE)
    record = _record(domain, record_id)
    initial = {
        "name": record.name,
        "type": record.type,
        "content": record.content,
        "ttl": record.ttl,
        "priority": record.priority,
    }
    form = forms.RecordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_update(record=record, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "Record saved.")
            return redirect("domains:zone", pk=domain.pk)
    context = {"domain": domain, "record": record, "form": form}
    return render(request, "domains/record_edit.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def record_delete(request, pk, record_id):
    domain = _domain(request, pk, DNS_MANAGE)
    record = _record(domain, record_id)
    act_and_report(
        request,
        lambda: services.record_delete(record=record),
        f"Deleted the {record.type} record of {record.fqdn}.",
    )
    return redirect("domains:zone", pk=domain.pk)
