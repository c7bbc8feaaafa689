"""HTML pages of the deployments app (mounted at the site root, namespace "deployments")."""

from django.urls import path

from deployments import views

app_name = "deployments"
urlpatterns = [
    path("deploy/", views.deploy, name="deploy"),
    path("deployments/", views.deployment_list, name="list"),
    path("deployments/<uuid:pk>/", views.deployment_detail_page, name="detail"),
    path("deployments/<uuid:pk>/log.txt", views.deployment_log_text, name="log-text"),
    path("deployments/<uuid:pk>/cancel/", views.deployment_cancel, name="cancel"),
    path("deployments/<uuid:pk>/redeploy/", views.deployment_redeploy, name="redeploy"),
    path("deployments/<uuid:pk>/delete/", views.deployment_delete, name="delete"),
    path("projects/<uuid:pk>/", views.project_settings, name="project"),
    path("projects/<uuid:pk>/deploy/", views.project_deploy_latest, name="project-deploy"),
    path("projects/<uuid:pk>/cache/clear/", views.project_cache_clear, name="project-cache-clear"),
    path("github/connect/", views.github_connect, name="github-connect"),
    path("github/disconnect/", views.github_disconnect, name="github-disconnect"),
]
