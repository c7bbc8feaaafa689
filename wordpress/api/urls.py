"""REST endpoints of WordPress sites (mounted under /api/)."""

from django.urls import path

from wordpress.api import views

urlpatterns = [
    path("sites/<uuid:pk>/wordpress", views.WordPressView.as_view(), name="api-site-wordpress"),
    path(
        "sites/<uuid:pk>/wordpress/start",
        views.WordPressStartView.as_view(),
        name="api-site-wordpress-start",
    ),
    path(
        "sites/<uuid:pk>/wordpress/stop",
        views.WordPressStopView.as_view(),
        name="api-site-wordpress-stop",
    ),
    path(
        "sites/<uuid:pk>/wordpress/update",
        views.WordPressUpdateView.as_view(),
        name="api-site-wordpress-update",
    ),
    path(
        "sites/<uuid:pk>/wordpress/password",
        views.WordPressPasswordView.as_view(),
        name="api-site-wordpress-password",
    ),
    path(
        "sites/<uuid:pk>/wordpress/login",
        views.WordPressLoginView.as_view(),
        name="api-site-wordpress-login",
    ),
]
