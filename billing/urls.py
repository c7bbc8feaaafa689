"""HTML pages of billing (mounted at the site root, namespace "billing")."""

from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("billing/", views.billing_index, name="index"),
    path("billing/subscribe/", views.subscribe, name="subscribe"),
    path("billing/portal/", views.portal, name="portal"),
    path("billing/invoices/<uuid:pk>/", views.invoice_detail, name="invoice"),
    path("billing/invoices/<uuid:pk>/pdf", views.invoice_pdf, name="invoice-pdf"),
    path("billing/purchases/<uuid:pk>/", views.purchase_detail, name="purchase"),
    path("billing/purchases/<uuid:pk>/pay/", views.purchase_pay, name="purchase-pay"),
    path("billing/purchases/<uuid:pk>/cancel/", views.purchase_cancel, name="purchase-cancel"),
]
