"""Hosted DNS zones: every write to a zone's records, and publishing them to PowerDNS.

The database holds the records; after each change the whole zone is published (only changed
rrsets are sent). Without PowerDNS configured, records are kept and the zone shows that it is
not published.
"""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from domains.dns.pdns import DnsError, PowerDNS, RRset
from domains.dns.records import CleanRecord, check_zone_rules, clean_record, fqdn, pdns_content
from domains.models import DnsRecord, Domain

MAX_RECORDS = 500


def _clean_rows(domain: Domain, exclude_pk=None) -> list[CleanRecord]:
    rows = domain.records.exclude(pk=exclude_pk) if exclude_pk else domain.records.all()
    return [CleanRecord(r.name, r.type, r.content, r.ttl, r.priority) for r in rows]


def _check_with_zone(domain: Domain, record: CleanRecord, exclude_pk=None) -> None:
    others = _clean_rows(domain, exclude_pk)
    key = (record.name, record.type, record.content, record.priority)
    if any((o.name, o.type, o.content, o.priority) == key for o in others):
        raise ValidationError("The zone already has this record.")
    # Records of the same rrset take the new TTL, so a TTL edit applies to the whole rrset.
    for other in others:
        if (other.name, other.type) == (record.name, record.type):
            other.ttl = record.ttl
    check_zone_rules([*others, record])


def default_records(domain: Domain) -> list[CleanRecord]:
    """A new zone's records: apex to the edge addresses, www as an alias of the apex."""
    ttl = settings.DNS_DEFAULT_TTL
    zone = domain.name
    records = [
        clean_record(zone=zone, name="@", type_="A", content=ip, ttl=ttl)
        for ip in settings.EDGE_IPV4
    ]
    records += [
        clean_record(zone=zone, name="@", type_="AAAA", content=ip, ttl=ttl)
        for ip in settings.EDGE_IPV6
    ]
    if records:
        records.append(clean_record(zone=zone, name="www", type_="CNAME", content="@", ttl=ttl))
    return records


def zone_enable(*, domain: Domain) -> Domain:
    """Host ``domain``'s zone in Berth with the default records (idempotent)."""
    with transaction.atomic():
        locked = Domain.objects.select_for_update().get(pk=domain.pk)
        if not locked.dns_hosted:
            for record in default_records(locked):
                DnsRecord.objects.get_or_create(
                    domain=locked,
                    name=record.name,
                    type=record.type,
                    content=record.content,
                    priority=record.priority,
                    defaults={"ttl": record.ttl},
                )
            locked.dns_hosted = True
            locked.save(update_fields=["dns_hosted", "updated_at"])
    domain.refresh_from_db()
    zone_publish(domain=domain)
    return domain


def record_create(
    *, domain: Domain, name: str, type: str, content: str, ttl=None, priority=None
) -> DnsRecord:
    """Add a record to a hosted zone after checking it alone and against the zone."""
    if not domain.dns_hosted:
        raise ValidationError("Berth does not host this domain's DNS; turn DNS hosting on first.")
    ttl = settings.DNS_DEFAULT_TTL if ttl in (None, "") else ttl
    record = clean_record(
        zone=domain.name, name=name, type_=type, content=content, ttl=ttl, priority=priority
    )
    if domain.records.count() >= MAX_RECORDS:
        raise ValidationError(f"A zone holds at most {MAX_RECORDS} records.")
    _check_with_zone(domain, record)
    try:
        with transaction.atomic():
            row = DnsRecord.objects.create(
                domain=domain,
                name=record.name,
                type=record.type,
                content=record.content,
                ttl=record.ttl,
                priority=record.priority,
            )
            _align_ttl(row)
    except IntegrityError as exc:
        raise ValidationError("The zone already has this record.") from exc
    zone_publish(domain=domain)
    return row


def record_update(*, record: DnsRecord, **changes) -> DnsRecord:
    """Change a record's name, type, content, TTL or priority (checked like a new one)."""
    if record.managed:
        raise ValidationError("Berth manages this record; it changes by itself.")
    domain = record.domain
    fields = {
        "name": record.name,
        "type_": record.type,
        "content": record.content,
        "ttl": record.ttl,
        "priority": record.priority,
    }
    for key, value in changes.items():
        if value is not None:
            fields["type_" if key == "type" else key] = value
    if fields["type_"] not in ("MX", "SRV"):
        fields["priority"] = None
    clean = clean_record(zone=domain.name, **fields)
    _check_with_zone(domain, clean, exclude_pk=record.pk)
    record.name, record.type, record.content = clean.name, clean.type, clean.content
    record.ttl, record.priority = clean.ttl, clean.priority
    try:
        with transaction.atomic():
            record.save()
            _align_ttl(record)
    except IntegrityError as exc:
        raise ValidationError("The zone already has this record.") from exc
    zone_publish(domain=domain)
    return record


def record_delete(*, record: DnsRecord) -> None:
    if record.managed:
        raise ValidationError("Berth manages this record; it is removed by itself.")
    domain = record.domain
    record.delete()
    zone_publish(domain=domain)


def _align_ttl(record: DnsRecord) -> None:
    DnsRecord.objects.filter(domain=record.domain, name=record.name, type=record.type).exclude(
        pk=record.pk
    ).update(ttl=record.ttl)


def managed_txt_set(*, domain: Domain, name: str, values: list[str], ttl: int = 60) -> None:
    """Berth's own TXT records (verification, ACME DNS-01) at ``name``: replaced by ``values``."""
    DnsRecord.objects.filter(domain=domain, name=name, type="TXT", managed=True).delete()
    for value in values:
        DnsRecord.objects.get_or_create(
            domain=domain,
            name=name,
            type="TXT",
            content=value,
            priority=None,
            defaults={"ttl": ttl, "managed": True},
        )
    zone_publish(domain=domain)


def rrsets_of(domain: Domain) -> list[RRset]:
    grouped: dict[tuple[str, str], list[DnsRecord]] = {}
    for record in domain.records.all():
        grouped.setdefault((record.name, record.type), []).append(record)
    return [
        RRset(
            fqdn(name, domain.name).rstrip("."),
            type_,
            min(r.ttl for r in rows),
            tuple(sorted(pdns_content(r.type, r.content, r.priority) for r in rows)),
        )
        for (name, type_), rows in grouped.items()
    ]


def zone_publish(*, domain: Domain) -> bool:
    """Send the zone to PowerDNS; records the outcome on the domain. True when published."""
    if not domain.dns_hosted:
        return False
    pdns = PowerDNS.from_settings()
    if pdns is None:
        error = "Not published: DNS hosting is not configured on this Berth (PDNS_API_URL)."
        Domain.objects.filter(pk=domain.pk).update(zone_error=error)
        domain.zone_error = error
        return False
    try:
        pdns.publish_zone(domain.name, settings.DNS_NAMESERVERS, rrsets_of(domain))
    except DnsError as exc:
        Domain.objects.filter(pk=domain.pk).update(zone_error=str(exc)[:500])
        domain.zone_error = str(exc)[:500]
        return False
    now = timezone.now()
    Domain.objects.filter(pk=domain.pk).update(zone_published_at=now, zone_error="")
    domain.zone_published_at, domain.zone_error = now, ""
    return True


def zone_remove(*, domain: Domain) -> None:
    """Stop hosting the zone: delete it from PowerDNS (records stay until the domain goes)."""
    pdns = PowerDNS.from_settings()
    if pdns is not None and domain.dns_hosted:
        with contextlib.suppress(DnsError):
            pdns.zone_delete(domain.name)
