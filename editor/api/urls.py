"""REST endpoints of the editor (mounted under /api/): the Alt Production Hosting client's
``/api/editor``."""

from django.urls import path

from editor.api import views

urlpatterns = [
    path("editor/templates", views.TemplateListView.as_view(), name="api-editor-templates"),
    path(
        "editor/templates/<slug:slug>",
        views.TemplateDetailView.as_view(),
        name="api-editor-template",
    ),
    path("editor/sites/<uuid:pk>/pages", views.PageListView.as_view(), name="api-editor-pages"),
    path("editor/sites/<uuid:pk>/publish", views.PublishView.as_view(), name="api-editor-publish"),
    path("editor/sites/<uuid:pk>/assets", views.AssetsView.as_view(), name="api-editor-assets"),
    path("editor/pages/<uuid:pk>", views.PageDetailView.as_view(), name="api-editor-page"),
    path(
        "editor/pages/<uuid:pk>/duplicate",
        views.PageDuplicateView.as_view(),
        name="api-editor-page-duplicate",
    ),
    path(
        "editor/pages/<uuid:pk>/document",
        views.DocumentView.as_view(),
        name="api-editor-document",
    ),
    path(
        "editor/pages/<uuid:pk>/revisions",
        views.RevisionListView.as_view(),
        name="api-editor-revisions",
    ),
    path(
        "editor/pages/<uuid:pk>/revisions/<int:number>",
        views.RevisionDetailView.as_view(),
        name="api-editor-revision",
    ),
    path(
        "editor/pages/<uuid:pk>/revisions/<int:number>/restore",
        views.RevisionRestoreView.as_view(),
        name="api-editor-revision-restore",
    ),
    path("editor/pages/<uuid:pk>/preview", views.PreviewView.as_view(), name="api-editor-preview"),
]
