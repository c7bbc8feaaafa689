"""HTML pages of the domains app (mounted at the site root, namespace "domains")."""

from django.urls import path

from domains import views

app_name = "domains"
urlpatterns = [
    path("domains/", views.domain_list, name="list"),
    path("domains/search/", views.domain_search, name="search"),
    path("domains/register/", views.domain_register, name="register"),
    path("domains/add/", views.domain_add, name="add"),
    path("domains/<uuid:pk>/", views.domain_detail, name="detail"),
    path("domains/<uuid:pk>/verify/", views.domain_verify, name="verify"),
    path("domains/<uuid:pk>/attach/", views.domain_attach, name="attach"),
    path("domains/<uuid:pk>/registration/", views.domain_registration, name="registration"),
    path("domains/<uuid:pk>/renew/", views.domain_renew, name="renew"),
    path("domains/<uuid:pk>/nameservers/", views.domain_nameservers, name="nameservers"),
    path("domains/<uuid:pk>/dns/enable/", views.domain_dns_enable, name="dns-enable"),
    path("domains/<uuid:pk>/delete/", views.domain_delete, name="delete"),
    path("domains/<uuid:pk>/certificates/", views.certificate_request, name="certificate-request"),
    path("domains/<uuid:pk>/dns/", views.zone, name="zone"),
    path("domains/<uuid:pk>/dns/<uuid:record_id>/", views.record_edit, name="record-edit"),
    path(
        "domains/<uuid:pk>/dns/<uuid:record_id>/delete/", views.record_delete, name="record-delete"
    ),
]
