"""REST endpoints of the hosting app (mounted under /api/).

The Alt Production Hosting client spells sites "hosting spaces"; the Cloud Haven client uses
/sites with ``POST /sites/create``. Both reach the same views.
"""

from django.urls import path

from hosting.api import deploys, views

urlpatterns = [
    # Alt Production Hosting: hosting spaces and their files.
    path(
        "hosting/spaces",
        views.SpaceListView.as_view(),
        name="api-spaces",
    ),
    path("hosting/spaces/<uuid:pk>", views.SiteDetailView.as_view(), name="api-space"),
    path("hosting/spaces/<uuid:pk>/files", views.FilesView.as_view(), name="api-space-files"),
    path(
        "hosting/spaces/<uuid:pk>/files/<path:path>",
        views.FilePathView.as_view(),
        name="api-space-file",
    ),
    path(
        "hosting/spaces/<uuid:pk>/folders",
        views.FolderCreateView.as_view(),
        name="api-space-folders",
    ),
    path("hosting/spaces/<uuid:pk>/deploy", views.DeployView.as_view(), name="api-space-deploy"),
    path(
        "hosting/spaces/<uuid:pk>/deployments",
        views.DeploymentListView.as_view(),
        name="api-space-deployments",
    ),
    path(
        "deployments/<uuid:pk>/rollback",
        views.RollbackView.as_view(),
        name="api-deployment-rollback",
    ),
    # Cloud Haven: sites.
    path("sites", views.SiteListView.as_view(), name="api-sites"),
    path("sites/create", views.SiteCreateView.as_view(), name="api-site-create"),
    path("sites/<uuid:pk>", views.SiteDetailView.as_view(), name="api-site"),
    # Folder deploys that upload only what the server lacks; promotion; previews.
    path("sites/<uuid:pk>/deploys", deploys.FolderDeployView.as_view(), name="api-site-deploys"),
    path(
        "deployments/<uuid:pk>/blobs",
        deploys.BlobBatchUploadView.as_view(),
        name="api-deployment-blobs",
    ),
    path(
        "deployments/<uuid:pk>/blobs/<str:digest>",
        deploys.BlobUploadView.as_view(),
        name="api-deployment-blob",
    ),
    path(
        "deployments/<uuid:pk>/publish",
        deploys.DeployPublishView.as_view(),
        name="api-deployment-publish",
    ),
    path(
        "deployments/<uuid:pk>/promote",
        deploys.PromoteView.as_view(),
        name="api-deployment-promote",
    ),
    path("sites/<uuid:pk>/previews", deploys.PreviewListView.as_view(), name="api-site-previews"),
    path(
        "sites/<uuid:pk>/previews/<str:name>",
        deploys.PreviewDetailView.as_view(),
        name="api-site-preview",
    ),
]
