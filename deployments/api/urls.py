"""REST endpoints of the deployments app (mounted under /api/).

``POST /api/deployments/<id>/rollback`` belongs to the hosting app (hosting/api/urls.py).
"""

from django.urls import path

from deployments.api import views

urlpatterns = [
    path("deployments", views.DeploymentListView.as_view(), name="api-deployments"),
    path("deployments/recent", views.DeploymentRecentView.as_view(), name="api-deployments-recent"),
    path("deployments/<uuid:pk>", views.DeploymentDetailView.as_view(), name="api-deployment"),
    path(
        "deployments/<uuid:pk>/logs",
        views.DeploymentLogsView.as_view(),
        name="api-deployment-logs",
    ),
    path(
        "deployments/<uuid:pk>/cancel",
        views.DeploymentCancelView.as_view(),
        name="api-deployment-cancel",
    ),
    path(
        "deployments/<uuid:pk>/redeploy",
        views.DeploymentRedeployView.as_view(),
        name="api-deployment-redeploy",
    ),
    path(
        "repositories/branches",
        views.RepositoryBranchesView.as_view(),
        name="api-repository-branches",
    ),
    path("repositories/detect", views.RepositoryDetectView.as_view(), name="api-repository-detect"),
    path(
        "projects/<uuid:pk>/deploy",
        views.ProjectDeployLatestView.as_view(),
        name="api-project-deploy",
    ),
    path(
        "projects/<uuid:pk>/cache/clear",
        views.ProjectCacheClearView.as_view(),
        name="api-project-cache-clear",
    ),
    path(
        "sites/<uuid:pk>/deploy-latest",
        views.SiteDeployLatestView.as_view(),
        name="api-site-deploy-latest",
    ),
    path("dashboard/stats", views.DashboardStatsView.as_view(), name="api-dashboard-stats"),
    path("github/connection", views.GitHubConnectionView.as_view(), name="api-github-connection"),
    path(
        "github/connection-status",
        views.GitHubConnectionView.as_view(),
        name="api-github-connection-status",
    ),
    path("github/connect", views.GitHubConnectView.as_view(), name="api-github-connect"),
    path("github/disconnect", views.GitHubDisconnectView.as_view(), name="api-github-disconnect"),
    path("github/repos", views.GitHubReposView.as_view(), name="api-github-repos"),
    path(
        "github/repos/<path:repo>/branches",
        views.GitHubBranchesView.as_view(),
        name="api-github-branches",
    ),
    path("github/webhook", views.GitHubWebhookView.as_view(), name="api-github-webhook"),
    path("webhooks/github", views.GitHubWebhookView.as_view(), name="api-webhooks-github"),
]
