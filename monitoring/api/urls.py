from django.urls import path

from monitoring.api import views

urlpatterns = [
    path("status/services", views.StatusServicesView.as_view(), name="api-status-services"),
    path("status/metrics", views.StatusMetricsView.as_view(), name="api-status-metrics"),
    path("status/history", views.StatusHistoryView.as_view(), name="api-status-history"),
    path("status/incidents", views.StatusIncidentsView.as_view(), name="api-status-incidents"),
    path("server/stats", views.ServerStatsView.as_view(), name="api-server-stats"),
    path("containers", views.ProcessListView.as_view(), name="api-containers"),
    path(
        "containers/<slug:pk>/restart",
        views.ProcessRestartView.as_view(),
        name="api-container-restart",
    ),
    path("admin/monitoring", views.AdminMonitoringView.as_view(), name="api-admin-monitoring"),
]
