"""The billing API, with ``/api`` as base URL like the Cloud Haven client."""

from django.urls import path

from billing.api import views
from billing.webhooks import stripe_webhook

urlpatterns = [
    path("billing/plans", views.PlanListView.as_view(), name="billing-plans"),
    path("billing/subscription", views.SubscriptionView.as_view(), name="billing-subscription"),
    path("billing/subscribe", views.SubscribeView.as_view(), name="billing-subscribe"),
    path("billing/portal", views.PortalView.as_view(), name="billing-portal"),
    path("billing/usage", views.UsageView.as_view(), name="billing-usage"),
    path("billing/invoices", views.InvoiceListView.as_view(), name="billing-invoices"),
    path(
        "billing/purchases/<uuid:pk>", views.PurchaseDetailView.as_view(), name="billing-purchase"
    ),
    path(
        "billing/purchases/<uuid:pk>/cancel",
        views.PurchaseCancelView.as_view(),
        name="billing-purchase-cancel",
    ),
    path("billing/stripe/webhook", stripe_webhook, name="billing-stripe-webhook"),
    path("admin/transactions", views.TransactionListView.as_view(), name="admin-transactions"),
]
