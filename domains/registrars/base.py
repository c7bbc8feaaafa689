"""The registrar adapter interface: what Berth asks of any registrar.

An adapter answers for a set of TLDs. Money is a ``Decimal`` in ``currency``; dates are aware
datetimes. Adapters raise ``RegistrarError`` with a message fit to show the user.
See docs/domains.md, "Adding a registrar".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class RegistrarError(Exception):
    """The registrar refused or failed; ``str(exc)`` is shown to the user."""


@dataclass(frozen=True)
class Availability:
    name: str
    available: bool
    price: Decimal | None  # per year
    currency: str
    reason: str = ""  # why it is not available ("taken", "reserved", ...)
    renewal_price: Decimal | None = None  # per year at renewal; None: the same as ``price``


@dataclass(frozen=True)
class RegistrationInfo:
    name: str
    expires_at: datetime
    nameservers: list[str] = field(default_factory=list)
    transfer_lock: bool = True
    created_at: datetime | None = None


class RegistrarAdapter:
    """Subclass and implement every method; ``key`` names the registrar in the database."""

    key = ""
    label = ""

    def tlds(self) -> list[str]:
        """The TLDs this adapter sells (without dots)."""
        raise NotImplementedError

    def check(self, name: str) -> Availability:
        raise NotImplementedError

    def register(
        self, name: str, *, years: int, registrant: str, nameservers: list[str]
    ) -> RegistrationInfo:
        raise NotImplementedError

    def renew(self, name: str, *, years: int) -> RegistrationInfo:
        raise NotImplementedError

    def set_nameservers(self, name: str, nameservers: list[str]) -> RegistrationInfo:
        raise NotImplementedError

    def set_transfer_lock(self, name: str, locked: bool) -> RegistrationInfo:
        raise NotImplementedError

    def info(self, name: str) -> RegistrationInfo:
        raise NotImplementedError
