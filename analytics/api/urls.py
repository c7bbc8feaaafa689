from django.urls import path

from analytics.api import views

urlpatterns = [
    path("analytics/metrics", views.MetricsView.as_view(), name="api-analytics-metrics"),
    path(
        "analytics/deployment-frequency",
        views.FrequencyView.as_view(),
        name="api-analytics-frequency",
    ),
    path(
        "analytics/success-rates",
        views.SuccessRatesView.as_view(),
        name="api-analytics-success-rates",
    ),
    path(
        "analytics/build-durations",
        views.BuildDurationsView.as_view(),
        name="api-analytics-build-durations",
    ),
    path(
        "analytics/resource-usage",
        views.ResourceUsageView.as_view(),
        name="api-analytics-resource-usage",
    ),
    path(
        "analytics/deployment-status",
        views.DeploymentStatusView.as_view(),
        name="api-analytics-deployment-status",
    ),
    path(
        "analytics/hourly-deployments",
        views.HourlyView.as_view(),
        name="api-analytics-hourly",
    ),
    path("analytics/dora", views.DoraView.as_view(), name="api-analytics-dora"),
    path("analytics/traffic", views.TrafficView.as_view(), name="api-analytics-traffic"),
]
