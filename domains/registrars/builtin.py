"""Berth as the registry for the TLDs it is configured to own (``BERTH_REGISTRY_TLDS``).

Registrations live in ``RegistryEntry``. When PowerDNS is configured the registry also serves
each owned TLD's zone, with NS records delegating every registered name to its nameservers, so
resolvers that ask the TLD's servers find the names.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from domains.dns.pdns import DnsError, PowerDNS, RRset, _dot
from domains.models import RegistryEntry
from domains.names import split_tld
from domains.registrars.base import Availability, RegistrarAdapter, RegistrarError, RegistrationInfo

log = logging.getLogger(__name__)

# Names no one may register: they belong to the registry itself.
RESERVED_LABELS = {"nic", "whois", "registry", "example", "localhost", "www", "ns1", "ns2"}
MAX_YEARS = 10


class BuiltinRegistry(RegistrarAdapter):
    key = "berth"
    label = "Berth registry"

    def tlds(self) -> list[str]:
        return sorted(settings.BERTH_REGISTRY_TLDS)

    def price(self, tld: str) -> Decimal:
        try:
            return Decimal(settings.BERTH_REGISTRY_TLDS[tld] or "0").quantize(Decimal("0.01"))
        except InvalidOperation:
            return Decimal("0.00")

    def _owned(self, name: str) -> tuple[str, str]:
        label, tld = split_tld(name)
        if tld not in settings.BERTH_REGISTRY_TLDS:
            raise RegistrarError(f"The Berth registry does not sell .{tld} names.")
        return label, tld

    def check(self, name: str) -> Availability:
        label, tld = self._owned(name)
        currency = settings.BERTH_REGISTRY_CURRENCY
        if label in RESERVED_LABELS:
            return Availability(name, False, self.price(tld), currency, "reserved")
        entry = RegistryEntry.objects.filter(name=name).first()
        if entry is not None and entry.expires_at > timezone.now():
            return Availability(name, False, self.price(tld), currency, "taken")
        # The registry renews at the price it registers for.
        price = self.price(tld)
        return Availability(name, True, price, currency, renewal_price=price)

    def register(self, name, *, years, registrant, nameservers) -> RegistrationInfo:
        if not 1 <= years <= MAX_YEARS:
            raise RegistrarError(f"Register for 1 to {MAX_YEARS} years.")
        availability = self.check(name)
        if not availability.available:
            raise RegistrarError(f"{name} is not available ({availability.reason}).")
        now = timezone.now()
        try:
            with transaction.atomic():
                # An expired entry is released and registered afresh.
                RegistryEntry.objects.filter(name=name, expires_at__lte=now).delete()
                entry = RegistryEntry.objects.create(
                    name=name,
                    registrant=registrant,
                    created_at=now,
                    expires_at=now + timedelta(days=365 * years),
                    nameservers=nameservers,
                )
        except IntegrityError as exc:
            raise RegistrarError(f"{name} was registered by someone else just now.") from exc
        self._delegate(entry)
        return self._info(entry)

    def renew(self, name, *, years) -> RegistrationInfo:
        entry = self._entry(name)
        if years < 1 or entry.expires_at + timedelta(days=365 * years) > timezone.now() + timedelta(
            days=365 * MAX_YEARS + 1
        ):
            raise RegistrarError(f"A registration can run at most {MAX_YEARS} years ahead.")
        base = max(entry.expires_at, timezone.now())
        entry.expires_at = base + timedelta(days=365 * years)
        entry.save(update_fields=["expires_at"])
        return self._info(entry)

    def set_nameservers(self, name, nameservers) -> RegistrationInfo:
        entry = self._entry(name)
        entry.nameservers = list(nameservers)
        entry.save(update_fields=["nameservers"])
        self._delegate(entry)
        return self._info(entry)

    def set_transfer_lock(self, name, locked) -> RegistrationInfo:
        entry = self._entry(name)
        entry.transfer_lock = locked
        entry.save(update_fields=["transfer_lock"])
        return self._info(entry)

    def info(self, name) -> RegistrationInfo:
        return self._info(self._entry(name))

    # --- internals ----------------------------------------------------------------------------
    def _entry(self, name: str) -> RegistryEntry:
        self._owned(name)
        try:
            return RegistryEntry.objects.get(name=name)
        except RegistryEntry.DoesNotExist:
            raise RegistrarError(f"{name} is not registered.") from None

    @staticmethod
    def _info(entry: RegistryEntry) -> RegistrationInfo:
        return RegistrationInfo(
            name=entry.name,
            expires_at=entry.expires_at,
            nameservers=list(entry.nameservers),
            transfer_lock=entry.transfer_lock,
            created_at=entry.created_at,
        )

    def _delegate(self, entry: RegistryEntry) -> None:
        """Publish the delegation (NS) of a name in its TLD's zone, when DNS is configured."""
        pdns = PowerDNS.from_settings()
        if pdns is None or not entry.nameservers:
            return
        _, tld = split_tld(entry.name)
        try:
            if pdns.zone_get(tld) is None:
                pdns.zone_create(
                    tld,
                    settings.DNS_NAMESERVERS,
                    [RRset(tld, "NS", 86400, tuple(_dot(ns) for ns in settings.DNS_NAMESERVERS))],
                )
            pdns.patch(
                tld,
                replace=[RRset(entry.name, "NS", 86400, tuple(_dot(n) for n in entry.nameservers))],
            )
        except DnsError:
            # The registration stands; the delegation is published again on the next change.
            log.warning("Could not publish the delegation of %s", entry.name, exc_info=True)
