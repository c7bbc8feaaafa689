"""Registrar adapters: which one answers for a name (docs/domains.md, "Adding a registrar")."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from domains.names import split_tld
from domains.registrars.base import (
    Availability,
    RegistrarAdapter,
    RegistrarError,
    RegistrationInfo,
)

__all__ = [
    "Availability",
    "RegistrarAdapter",
    "RegistrarError",
    "RegistrationInfo",
    "adapter_for",
    "adapter_named",
    "sold_tlds",
]


def _builtin() -> RegistrarAdapter:
    from domains.registrars.builtin import BuiltinRegistry

    return BuiltinRegistry()


def _external() -> RegistrarAdapter | None:
    if not settings.DOMAINS_REGISTRAR:
        return None
    return import_string(settings.DOMAINS_REGISTRAR)()


def adapter_for(name: str) -> RegistrarAdapter | None:
    """The adapter that sells ``name``'s TLD: Berth's registry first, then DOMAINS_REGISTRAR."""
    _, tld = split_tld(name)
    if tld in settings.BERTH_REGISTRY_TLDS:
        return _builtin()
    external = _external()
    if external is not None and tld in external.tlds():
        return external
    return None


def adapter_named(key: str) -> RegistrarAdapter | None:
    """The adapter that holds an existing registration (by ``Domain.registrar``)."""
    builtin = _builtin()
    if key == builtin.key:
        return builtin
    external = _external()
    return external if external is not None and external.key == key else None


def sold_tlds() -> list[str]:
    """Every TLD a user can search, Berth's own first."""
    tlds = _builtin().tlds()
    external = _external()
    if external is not None:
        tlds += [t for t in external.tlds() if t not in tlds]
    return tlds
