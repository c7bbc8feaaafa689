"""Pages that belong to no single app: landing, dashboard, error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.static import serve

from controlpanel.api.exceptions import error_response


def landing(request):
    return render(request, "landing.html")


@login_required
def dashboard(request):
    """The Autostack dashboard: deployment statistics, the five latest, GitHub, quick actions."""
    from accounts import selectors as account_selectors
    from deployments import selectors as deployment_selectors
    from deployments import services as deployment_services
    from teams.context import current_team

    team = current_team(request)
    context = {
        "stats": deployment_selectors.dashboard_stats(user=request.user, team=team),
        "recent_deployments": deployment_selectors.deployment_recent(user=request.user, team=team),
        "github_connection": deployment_selectors.github_account(user=request.user),
        "github_configured": deployment_services.github_configured(),
        "recent_security_events": account_selectors.security_events_recent(user=request.user),
    }
    return render(request, "dashboard.html", context)


def public_media(request, path):
    """Public files of the local "default" store (avatars), when no bucket serves them."""
    return serve(request, path, document_root=storages["default"].location)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    if _is_api(request):
        return error_response(400, "BAD_REQUEST", "The request could not be understood.")
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    if _is_api(request):
        return error_response(403, "FORBIDDEN", "You do not have permission to do this.")
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    if _is_api(request):
        return error_response(404, "NOT_FOUND", f"Nothing is at {request.path}.")
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if _is_api(request):
        return error_response(500, "INTERNAL_SERVER_ERROR", "Something went wrong on our side.")
    # No context processors: the failure may be the database they would read.
    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def csrf_failure(request, reason=""):
    if _is_api(request):
        return error_response(403, "FORBIDDEN", "CSRF verification failed.", {"reason": reason})
    return render(request, "errors/403.html", {"csrf": True}, status=403)
