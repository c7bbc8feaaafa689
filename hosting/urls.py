"""HTML pages of the hosting app (mounted at the site root, namespace "hosting")."""

from django.urls import path  # noqa: F401

app_name = "hosting"
urlpatterns: list = []
