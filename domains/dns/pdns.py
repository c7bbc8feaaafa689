"""The PowerDNS Authoritative adapter: zones and rrsets through its HTTP API.

Berth's database holds the records; ``publish_zone`` makes PowerDNS hold exactly the same
rrsets (replacing what changed, deleting what is gone). Names passed in are ASCII, without the
final dot; the adapter adds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests
from django.conf import settings


class DnsError(Exception):
    """PowerDNS could not be reached or refused a change; the message is for people."""


@dataclass(frozen=True)
class RRset:
    name: str  # absolute, without the final dot
    type: str
    ttl: int
    contents: tuple[str, ...] = field(default_factory=tuple)


def _dot(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


class PowerDNS:
    def __init__(self, url: str, api_key: str, server_id: str = "localhost", timeout: int = 10):
        self.url = url.rstrip("/")
        self.server_id = server_id
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"X-API-Key": api_key, "Accept": "application/json"})

    @classmethod
    def from_settings(cls) -> PowerDNS | None:
        if not settings.PDNS_API_URL:
            return None
        return cls(settings.PDNS_API_URL, settings.PDNS_API_KEY, settings.PDNS_SERVER_ID)

    # --- HTTP ---------------------------------------------------------------------------------
    def _zones_url(self, zone: str | None = None) -> str:
        base = f"{self.url}/api/v1/servers/{self.server_id}/zones"
        return f"{base}/{_dot(zone)}" if zone else base

    def _request(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise DnsError(f"The DNS server cannot be reached: {exc.__class__.__name__}.") from exc
        if response.status_code >= 400 and response.status_code != 404:
            try:
                reason = response.json().get("error", response.text)
            except ValueError:
                reason = response.text
            raise DnsError(f"The DNS server refused the change: {reason[:300]}")
        return response

    # --- zones --------------------------------------------------------------------------------
    def zone_get(self, zone: str) -> dict | None:
        response = self._request("GET", self._zones_url(zone))
        return None if response.status_code == 404 else response.json()

    def zone_create(self, zone: str, nameservers: list[str], rrsets: list[RRset] = ()) -> None:
        soa = RRset(
            zone,
            "SOA",
            3600,
            (f"{_dot(nameservers[0])} hostmaster.{_dot(zone)} 1 10800 3600 604800 300",),
        )
        body = {
            "name": _dot(zone),
            "kind": "Native",
            "nameservers": [],
            "soa_edit_api": "DEFAULT",
            "rrsets": [self._rrset_json(r) for r in [soa, *rrsets]],
        }
        self._request("POST", self._zones_url(), json=body)

    def zone_delete(self, zone: str) -> None:
        self._request("DELETE", self._zones_url(zone))

    def rrsets(self, zone: str) -> list[RRset]:
        data = self.zone_get(zone)
        if data is None:
            return []
        return [
            RRset(
                r["name"].rstrip("."),
                r["type"],
                r["ttl"],
                tuple(sorted(rec["content"] for rec in r["records"])),
            )
            for r in data.get("rrsets", [])
        ]

    def patch(self, zone: str, replace: list[RRset] = (), delete: list[tuple[str, str]] = ()):
        changes = [{**self._rrset_json(r), "changetype": "REPLACE"} for r in replace]
        changes += [
            {"name": _dot(name), "type": type_, "changetype": "DELETE"} for name, type_ in delete
        ]
        if changes:
            self._request("PATCH", self._zones_url(zone), json={"rrsets": changes})

    def publish_zone(self, zone: str, nameservers: list[str], rrsets: list[RRset]) -> None:
        """Make the zone hold exactly ``rrsets`` (plus its SOA and apex NS); create it if new."""
        apex_ns = RRset(zone, "NS", 3600, tuple(sorted(_dot(ns) for ns in nameservers)))
        wanted = {(r.name, r.type): r for r in [apex_ns, *rrsets]}
        if self.zone_get(zone) is None:
            self.zone_create(zone, nameservers, list(wanted.values()))
            return
        current = {(r.name, r.type): r for r in self.rrsets(zone)}
        replace = [r for key, r in wanted.items() if current.get(key) != r]
        delete = [key for key in current if key not in wanted and key[1] != "SOA"]
        self.patch(zone, replace=replace, delete=delete)

    @staticmethod
    def _rrset_json(rrset: RRset) -> dict:
        return {
            "name": _dot(rrset.name),
            "type": rrset.type,
            "ttl": rrset.ttl,
            "records": [{"content": c, "disabled": False} for c in rrset.contents],
        }
