"""REST endpoints of backups (mounted under /api/)."""

from django.urls import path

from backups.api import views

urlpatterns = [
    path("sites/<uuid:pk>/backups", views.BackupListView.as_view(), name="api-site-backups"),
    path(
        "sites/<uuid:pk>/backups/schedule",
        views.ScheduleView.as_view(),
        name="api-site-backups-schedule",
    ),
    path(
        "sites/<uuid:pk>/backups/<uuid:backup_id>",
        views.BackupDetailView.as_view(),
        name="api-site-backup",
    ),
    path(
        "sites/<uuid:pk>/backups/<uuid:backup_id>/restore",
        views.BackupRestoreView.as_view(),
        name="api-site-backup-restore",
    ),
    path(
        "sites/<uuid:pk>/backups/<uuid:backup_id>/download",
        views.BackupDownloadView.as_view(),
        name="api-site-backup-download",
    ),
    path(
        "sites/<uuid:pk>/restores/<uuid:restore_id>",
        views.RestoreDetailView.as_view(),
        name="api-site-restore",
    ),
]
