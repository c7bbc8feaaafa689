"""HTML pages of WordPress sites (namespace "wordpress")."""

from django.urls import path

from wordpress import views

app_name = "wordpress"
urlpatterns = [
    path("sites/new/wordpress/", views.create, name="create"),
    path("sites/<uuid:pk>/wordpress/", views.detail, name="detail"),
    path("sites/<uuid:pk>/wordpress/start/", views.start, name="start"),
    path("sites/<uuid:pk>/wordpress/stop/", views.stop, name="stop"),
    path("sites/<uuid:pk>/wordpress/settings/", views.settings, name="settings"),
    path("sites/<uuid:pk>/wordpress/password/", views.password, name="password"),
    path("sites/<uuid:pk>/wordpress/update/", views.update, name="update"),
    path("sites/<uuid:pk>/wordpress/delete/", views.delete, name="delete"),
    path("sites/<uuid:pk>/wordpress/login/", views.login, name="login"),
]
