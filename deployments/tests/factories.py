"""Builders for deployment tests."""

from __future__ import annotations

import io

from hosting.services import site_create


def files(mapping: dict[str, bytes]):
    """{path: bytes} -> the (path, opener) list that deployment_publish takes."""
    return [(path, (lambda data=data: io.BytesIO(data))) for path, data in mapping.items()]


def make_site(owner, name="Docs", slug=""):
    return site_create(owner=owner, name=name, slug=slug)
