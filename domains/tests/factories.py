"""Builders for the domains tests."""

from __future__ import annotations

from hosting.services import site_create


def make_site(owner, name="Blog", slug=""):
    return site_create(owner=owner, name=name, slug=slug)
