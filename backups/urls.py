"""HTML pages of backups (namespace "backups")."""

from django.urls import path

from backups import views

app_name = "backups"
urlpatterns = [
    path("sites/<uuid:pk>/backups/", views.site_backups, name="site-backups"),
    path("sites/<uuid:pk>/backups/new/", views.backup_now, name="backup-now"),
    path("sites/<uuid:pk>/backups/schedule/", views.schedule_set, name="schedule-set"),
    path(
        "sites/<uuid:pk>/backups/<uuid:backup_pk>/restore/",
        views.backup_restore,
        name="backup-restore",
    ),
    path(
        "sites/<uuid:pk>/backups/<uuid:backup_pk>/restore-elsewhere/",
        views.backup_restore_elsewhere,
        name="backup-restore-elsewhere",
    ),
    path(
        "sites/<uuid:pk>/backups/<uuid:backup_pk>/download/",
        views.backup_download,
        name="backup-download",
    ),
    path(
        "sites/<uuid:pk>/backups/<uuid:backup_pk>/delete/",
        views.backup_delete,
        name="backup-delete",
    ),
]
