"""The OpenAPI generator: drf-spectacular's, with Berth's schema extensions registered first.

Named by ``SPECTACULAR_SETTINGS["DEFAULT_GENERATOR_CLASS"]``, so the schema view, ``manage.py
spectacular`` and the deploy check all use it. The extensions are imported here rather than in
an app's ``ready()``: importing them loads drf-spectacular's schema machinery (with DRF and its
test client, ~16 MiB), which only a process generating the schema needs.
"""

from __future__ import annotations

from drf_spectacular import generators

from accounts import schema  # noqa: F401  (registers the bearer-token authentication scheme)


class SchemaGenerator(generators.SchemaGenerator):
    pass
