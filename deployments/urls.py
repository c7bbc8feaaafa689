"""HTML pages of the deployments app (mounted at the site root, namespace "deployments")."""

from django.urls import path  # noqa: F401

app_name = "deployments"
urlpatterns: list = []
