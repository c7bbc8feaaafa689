from django.urls import path

from editor import views

app_name = "editor"

urlpatterns = [
    path("sites/<uuid:pk>/pages/", views.page_list, name="pages"),
    path("sites/<uuid:pk>/pages/new/", views.page_create, name="page-create"),
    path("sites/<uuid:pk>/pages/template/", views.template_apply, name="template-apply"),
    path("sites/<uuid:pk>/pages/publish/", views.site_publish, name="publish"),
    path("pages/<uuid:pk>/edit/", views.page_edit, name="page-edit"),
    path("pages/<uuid:pk>/settings/", views.page_settings, name="page-settings"),
    path("pages/<uuid:pk>/duplicate/", views.page_duplicate, name="page-duplicate"),
    path("pages/<uuid:pk>/home/", views.page_home, name="page-home"),
    path("pages/<uuid:pk>/delete/", views.page_delete, name="page-delete"),
    path("pages/<uuid:pk>/preview/", views.page_preview, name="page-preview"),
    path("pages/<uuid:pk>/revisions/", views.revision_list, name="page-revisions"),
    path(
        "pages/<uuid:pk>/revisions/<int:number>/restore/",
        views.revision_restore,
        name="revision-restore",
    ),
]
