"""The analytics page: key figures, DORA figures and a tab of charts for the current team."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics import charts, selectors
from analytics.forms import AnalyticsFilterForm
from teams.context import current_team
from teams.permissions import VIEW, authorize


@login_required
@require_GET
def analytics(request):
    team = current_team(request)
    authorize(request.user, VIEW, team)
    sites = selectors.site_choices(team=team)
    form = AnalyticsFilterForm(request.GET, sites=sites)
    chosen = form.values()
    scope = selectors.scope_for(team=team, days=chosen["period"], site_id=chosen["site"])
    tab = chosen["tab"]
    context = {
        "form": form,
        "scope": scope,
        "metrics": selectors.metrics(scope),
        "dora": selectors.dora(scope),
        "tab": tab,
        "tabs": charts.TABS,
        "data": charts.tab_data(tab, scope),
        "has_sites": bool(sites),
        "selected_site": str(scope.site.pk) if scope.site else "",
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "analytics/index.html", context)
