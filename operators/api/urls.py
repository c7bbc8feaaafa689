from django.urls import path

from operators.api import views

urlpatterns = [
    path("admin/users", views.AdminUserListView.as_view(), name="api-admin-users"),
    path(
        "admin/users/<uuid:pk>/sites",
        views.AdminUserSitesView.as_view(),
        name="api-admin-user-sites",
    ),
    path(
        "admin/users/<uuid:pk>/suspend",
        views.AdminUserSuspendView.as_view(),
        name="api-admin-user-suspend",
    ),
    path(
        "admin/users/<uuid:pk>/unsuspend",
        views.AdminUserUnsuspendView.as_view(),
        name="api-admin-user-unsuspend",
    ),
]
