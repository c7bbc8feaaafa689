"""HTML pages of the domains app (mounted at the site root, namespace "domains")."""

from django.urls import path  # noqa: F401

app_name = "domains"
urlpatterns: list = []
