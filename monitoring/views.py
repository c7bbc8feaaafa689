"""The public status page (with its badge and subscriptions) and the operators' page."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from monitoring import charts, selectors, services
from monitoring.events import BARS_HTML_KEY
from monitoring.forms import IncidentForm, IncidentUpdateForm, SubscribeForm
from monitoring.models import Incident, Service


def operator_required(view):
    """Signed-out visitors go to the sign-in page; signed-in non-operators get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Operators only.")
        return view(request, *args, **kwargs)

    return wrapped


def _bars_html() -> dict[str, str]:
    """Each service's 90 bars as HTML, kept until the next check is recorded."""
    html = cache.get(BARS_HTML_KEY)
    if html is None:
        history = selectors.service_history()
        slugs = dict(Service.objects.filter(enabled=True).values_list("pk", "slug"))
        html = {slug: charts.day_bars(history.get(pk, [])) for pk, slug in slugs.items()}
        cache.set(BARS_HTML_KEY, html, selectors.METRICS_CACHE_SECONDS)
    return html


@require_GET
def status(request):
    rows = selectors.status_services()
    bars = _bars_html()
    for row in rows:
        row["bars"] = bars.get(row["slug"]) or charts.day_bars([])
    context = {
        "overall": selectors.overall_status(rows),
        "services": rows,
        "metrics": selectors.status_metrics(),
        "incidents": selectors.incident_list(limit=10),
        "form": SubscribeForm(),
    }
    return render(request, "monitoring/status.html", context)


@require_GET
@cache_control(max_age=30, public=True)
def badge(request, slug: str):
    service = Service.objects.filter(slug=slug, enabled=True).first()
    if service is None:
        raise Http404("No such service.")
    svg = charts.badge_svg(service.name, service.status)
    return HttpResponse(svg, content_type="image/svg+xml")


@require_POST
def subscribe(request):
    form = SubscribeForm(request.POST)
    if form.is_valid():
        services.subscriber_add(email=form.cleaned_data["email"])
        messages.success(request, "Check your inbox: confirm the subscription from the email.")
    else:
        messages.error(request, "Enter a valid email address.")
    return redirect("monitoring:status")


@require_GET
def subscribe_confirm(request, token: str):
    subscriber = services.subscriber_confirm(token=token)
    if subscriber is None:
        raise Http404("This link is no longer valid.")
    messages.success(request, f"{subscriber.email} now gets incident updates.")
    return redirect("monitoring:status")


def unsubscribe(request, token: str):
    """GET shows a button (mail scanners follow links); POST removes the address."""
    if request.method == "POST":
        services.subscriber_remove(token=token)
        messages.success(request, "You will not get incident emails any more.")
        return redirect("monitoring:status")
    return render(request, "monitoring/unsubscribe.html", {"token": token})


@operator_required
def operations(request):
    hosts = selectors.host_list()
    for host in hosts:
        host.charts = charts.host_charts(selectors.host_history(host=host, hours=24))
    context = {
        "summary": selectors.monitoring_summary(),
        "hosts": hosts,
        "incident_form": IncidentForm(),
        "update_form": IncidentUpdateForm(),
    }
    return render(request, "monitoring/operations.html", context)


@operator_required
@require_POST
def incident_create(request):
    form = IncidentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.incident_create(
                title=data["title"],
                message=data["message"],
                state=data["state"],
                severity=data["severity"],
                services=list(data["services"]),
                author=request.user,
            )
            messages.success(request, "Incident published on the status page.")
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, "The incident needs a title and a message.")
    return redirect("monitoring:operations")


@operator_required
@require_POST
def incident_update(request, pk: int):
    incident = get_object_or_404(Incident, pk=pk)
    form = IncidentUpdateForm(request.POST)
    if form.is_valid():
        services.incident_update_add(incident=incident, author=request.user, **form.cleaned_data)
        messages.success(request, "Update published.")
    else:
        messages.error(request, "An update needs a state and a message.")
    return redirect("monitoring:operations")


@operator_required
@require_POST
def process_restart(request, name: str):
    if name not in selectors.process_names():
        raise Http404("No such process.")
    try:
        info = services.process_restart_requested(name=name, actor=request.user, request=request)
        if info is None:
            messages.success(request, f"{name} is restarting; this page answers again shortly.")
        else:
            messages.success(request, f"{name} restarted (pid {info.pid}).")
    except services.RestartFailed as exc:
        messages.error(request, f"{name} did not restart: {exc}")
    return redirect("monitoring:operations")
