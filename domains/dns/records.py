"""Validation of DNS records per type, and their PowerDNS (zone-file) form.

Stored forms: target names absolute without the final dot (``mail.example.com``), TXT as the
plain text (quoted and split into 255-byte strings when published), MX/SRV priority in its own
column, SRV data as ``weight port target``, CAA as ``flags tag "value"``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from domains.names import _to_ascii, check_labels

MIN_TTL, MAX_TTL = 60, 604800
CAA_TAGS = {"issue", "issuewild", "iodef"}
SRV_NAME_RE = re.compile(r"^_[a-z0-9-]+\._(tcp|udp|tls|sctp)(\..+)?$")


@dataclass
class CleanRecord:
    name: str  # relative: "@" or labels
    type: str
    content: str
    ttl: int
    priority: int | None


def clean_name(name: str, zone: str, *, type_: str) -> str:
    """A record name relative to ``zone`` ("@", "www", "_dmarc"); absolute names inside the zone
    are accepted and made relative."""
    raw = (name or "").strip().rstrip(".").lower()
    if raw in ("", "@", zone):
        return "@"
    if raw.endswith("." + zone):
        raw = raw[: -len(zone) - 1]
    ascii_name = _to_ascii(raw)
    check_labels(f"{ascii_name}.{zone}", allow_underscore=True, allow_wildcard=True)
    if type_ == "SRV" and not SRV_NAME_RE.match(ascii_name):
        raise ValidationError({"name": "An SRV name looks like “_service._tcp” (or “._udp”)."})
    return ascii_name


def _target(value: str, zone: str, field: str = "content") -> str:
    raw = (value or "").strip()
    if raw == "@":
        return zone
    try:
        name = _to_ascii(raw)
        check_labels(name, allow_underscore=True)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from exc
    if "." not in name:
        raise ValidationError({field: "Give a full host name, such as mail.example.com."})
    return name


def _int(value, field: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"Enter a whole number from {low} to {high}."}) from None
    if not low <= number <= high:
        raise ValidationError({field: f"Enter a whole number from {low} to {high}."})
    return number


def clean_record(
    *, zone: str, name: str, type_: str, content: str, ttl, priority=None
) -> CleanRecord:
    """Check one record's fields and return them in stored form; raises ValidationError."""
    type_ = (type_ or "").strip().upper()
    if type_ not in {"A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA"}:
        raise ValidationError({"type": "Choose A, AAAA, CNAME, TXT, MX, NS, SRV or CAA."})
    try:
        rel = clean_name(name, zone, type_=type_)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from exc
    ttl = _int(ttl, "ttl", MIN_TTL, MAX_TTL)
    content = (content or "").strip()
    if not content:
        raise ValidationError({"content": "Enter the record's value."})
    if len(content) > 2000:
        raise ValidationError({"content": "A value has at most 2000 characters."})
    prio = None
    if type_ == "A":
        try:
            content = str(ipaddress.IPv4Address(content))
        except ValueError:
            raise ValidationError(
                {"content": "Enter an IPv4 address, such as 192.0.2.10."}
            ) from None
    elif type_ == "AAAA":
        try:
            content = str(ipaddress.IPv6Address(content))
        except ValueError:
            raise ValidationError(
                {"content": "Enter an IPv6 address, such as 2001:db8::1."}
            ) from None
    elif type_ == "CNAME":
        if rel == "@":
            raise ValidationError({"name": "The zone apex cannot be a CNAME; use A/AAAA records."})
        content = _target(content, zone)
    elif type_ == "NS":
        if rel == "@":
            raise ValidationError(
                {"name": "The apex nameservers are Berth's; delegate a subdomain."}
            )
        content = _target(content, zone)
    elif type_ == "MX":
        prio = _int(priority, "priority", 0, 65535)
        content = _target(content, zone)
    elif type_ == "TXT":
        if any(ord(c) < 32 and c != "\t" for c in content):
            raise ValidationError({"content": "A TXT value cannot contain line breaks."})
        if content.startswith('"') and content.endswith('"') and len(content) > 1:
            content = content[1:-1]
        if not content.isascii():
            raise ValidationError({"content": "A TXT value may hold ASCII characters only."})
    elif type_ == "SRV":
        prio = _int(priority, "priority", 0, 65535)
        parts = content.split()
        if len(parts) != 3:
            raise ValidationError(
                {"content": "Enter “weight port target”, e.g. “5 5060 sip.example.com”."}
            )
        weight = _int(parts[0], "content", 0, 65535)
        port = _int(parts[1], "content", 0, 65535)
        target = "." if parts[2] == "." else _target(parts[2], zone)
        content = f"{weight} {port} {target}"
    elif type_ == "CAA":
        match = re.match(r'^(\d+)\s+([a-zA-Z0-9]+)\s+"?([^"]*)"?$', content)
        if not match:
            raise ValidationError(
                {"content": 'Enter “flags tag "value"”, e.g. 0 issue "letsencrypt.org".'}
            )
        flags = _int(match.group(1), "content", 0, 255)
        tag = match.group(2).lower()
        if tag not in CAA_TAGS:
            raise ValidationError({"content": "The CAA tag is issue, issuewild or iodef."})
        content = f'{flags} {tag} "{match.group(3).strip()}"'
    return CleanRecord(rel, type_, content, ttl, prio)


def check_zone_rules(records: list[CleanRecord]) -> None:
    """Rules across records of a zone: CNAME exclusivity, one TTL per rrset."""
    by_name: dict[str, set[str]] = {}
    ttls: dict[tuple[str, str], set[int]] = {}
    for record in records:
        by_name.setdefault(record.name, set()).add(record.type)
        ttls.setdefault((record.name, record.type), set()).add(record.ttl)
    for name, types in by_name.items():
        if "CNAME" in types and len(types) > 1:
            shown = name if name != "@" else "the apex"
            raise ValidationError(
                {"type": f"{shown} has a CNAME, so it can have no other records (and vice versa)."}
            )
    for (name, type_), values in ttls.items():
        if len(values) > 1:
            raise ValidationError(
                {"ttl": f"All {type_} records of “{name}” share one TTL; use {min(values)}."}
            )
    cnames = [r for r in records if r.type == "CNAME"]
    if len({r.name for r in cnames}) != len(cnames):
        raise ValidationError({"type": "A name can have only one CNAME record."})


def fqdn(name: str, zone: str) -> str:
    return f"{zone}." if name == "@" else f"{name}.{zone}."


def txt_quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    chunks = [escaped[i : i + 255] for i in range(0, len(escaped), 255)] or [""]
    return " ".join(f'"{chunk}"' for chunk in chunks)


def pdns_content(type_: str, content: str, priority: int | None) -> str:
    """A stored record's data in PowerDNS (zone-file) form."""
    if type_ in ("CNAME", "NS"):
        return f"{content}."
    if type_ == "MX":
        return f"{priority} {content}."
    if type_ == "SRV":
        weight, port, target = content.split()
        return f"{priority} {weight} {port} {target if target == '.' else target + '.'}"
    if type_ == "TXT":
        return txt_quoted(content)
    return content
