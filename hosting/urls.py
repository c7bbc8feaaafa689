"""HTML pages of the hosting app (mounted at the site root, namespace "hosting")."""

from django.urls import path

from hosting import views, views_deployed, views_files

app_name = "hosting"
urlpatterns = [
    path("sites/", views.site_list, name="site-list"),
    path("sites/new/", views.site_create, name="site-create"),
    path("sites/address-check/", views.address_check, name="address-check"),
    path("sites/<uuid:pk>/", views.site_detail, name="site-detail"),
    path("sites/<uuid:pk>/deployments/", views.site_deployments, name="site-deployments"),
    path("sites/<uuid:pk>/deploy/", views.site_deploy, name="site-deploy"),
    path(
        "sites/<uuid:pk>/deployments/<uuid:deployment_pk>/rollback/",
        views.site_rollback,
        name="site-rollback",
    ),
    path("sites/<uuid:pk>/settings/", views.site_settings, name="site-settings"),
    path("sites/<uuid:pk>/status/", views.site_status, name="site-status"),
    path(
        "sites/<uuid:pk>/previews/protection/",
        views.site_preview_protection,
        name="site-preview-protection",
    ),
    path("previews/unlock/", views.preview_unlock, name="preview-unlock"),
    path("sites/<uuid:pk>/delete/", views.site_delete, name="site-delete"),
    # The file manager: paths travel in ?path= / the form's "path" field, cleaned by each view.
    path("sites/<uuid:pk>/files/", views_files.site_files, name="site-files"),
    path("sites/<uuid:pk>/files/upload/", views_files.files_upload_view, name="files-upload"),
    path("sites/<uuid:pk>/files/folder/", views_files.folder_create, name="folder-create"),
    path("sites/<uuid:pk>/files/new/", views_files.file_create, name="file-create"),
    path("sites/<uuid:pk>/files/rename/", views_files.path_rename, name="path-rename"),
    path("sites/<uuid:pk>/files/move/", views_files.path_move, name="path-move"),
    path("sites/<uuid:pk>/files/delete/", views_files.path_delete, name="path-delete"),
    path("sites/<uuid:pk>/files/download/", views_files.file_download, name="file-download"),
    path("sites/<uuid:pk>/files/preview/", views_files.file_preview, name="file-preview"),
    path("sites/<uuid:pk>/files/edit/", views_files.file_edit, name="file-edit"),
    # A site built from git: its live deployment's files, read-only.
    path("sites/<uuid:pk>/files/live/", views_deployed.live_file, name="live-file"),
    path(
        "sites/<uuid:pk>/files/live/download/",
        views_deployed.live_download,
        name="live-download",
    ),
]
