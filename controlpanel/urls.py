from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from controlpanel import health, views
from controlpanel.middleware import csp_override

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)

api_patterns = [
    path("", include("accounts.api.urls")),
    path("", include("hosting.api.urls")),
    path("", include("wordpress.api.urls")),
    path("", include("backups.api.urls")),
    path("", include("deployments.api.urls")),
    path("", include("domains.api.urls")),
    path("", include("teams.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("billing.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("operators.api.urls")),
    path("", include("editor.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "docs/",
        csp_override(DOCS_CSP)(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("health", health.health, name="health"),
    # Before the pages' patterns: no page is under api/, and Django tries the patterns in
    # order on every request (the pages' nested lists cost an API call ~0.1 ms before).
    path("api/", include(api_patterns)),
    path("accounts/", include("allauth.urls")),
    path("login", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("signup", RedirectView.as_view(pattern_name="account_signup", query_string=True)),
    path(
        "forgot-password",
        RedirectView.as_view(pattern_name="account_reset_password", query_string=True),
    ),
    path("", include("accounts.urls")),
    path("", include("hosting.urls")),
    path("", include("wordpress.urls")),
    path("", include("deployments.urls")),
    path("", include("domains.urls")),
    path("", include("teams.urls")),
    path("", include("monitoring.urls")),
    path("", include("billing.urls")),
    path("", include("analytics.urls")),
    path("", include("operators.urls")),
    path("", include("editor.urls")),
    path("", include("backups.urls")),
    path("admin/", admin.site.urls),
]

if not settings.S3_BUCKET:
    # Avatars from the local "default" store (with S3 the bucket serves them).
    urlpatterns += [re_path(r"^media/(?P<path>avatars/.+)$", views.public_media)]

handler400 = "controlpanel.views.bad_request"
handler403 = "controlpanel.views.permission_denied"
handler404 = "controlpanel.views.page_not_found"
handler500 = "controlpanel.views.server_error"
