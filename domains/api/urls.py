"""REST endpoints of the domains app (mounted under /api/)."""

from django.urls import path

from domains.api import views

urlpatterns = [
    path("domains", views.DomainListView.as_view(), name="api-domains"),
    path("domains/check", views.DomainCheckView.as_view(), name="api-domain-check"),
    path("domains/<uuid:pk>", views.DomainDetailView.as_view(), name="api-domain"),
    path("domains/<uuid:pk>/renew", views.DomainRenewView.as_view(), name="api-domain-renew"),
    path("domains/<uuid:pk>/verify", views.DomainVerifyView.as_view(), name="api-domain-verify"),
    path("domains/<uuid:pk>/dns", views.DomainDnsView.as_view(), name="api-domain-dns"),
    path("domains/<uuid:pk>/records", views.RecordListView.as_view(), name="api-domain-records"),
    path(
        "domains/<uuid:pk>/records/<uuid:record_id>",
        views.RecordDetailView.as_view(),
        name="api-domain-record",
    ),
    path("sites/<uuid:pk>/ssl", views.SiteSslView.as_view(), name="api-site-ssl"),
]
