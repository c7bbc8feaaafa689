"""Proof that a domain points at Berth, read with dnspython from the configured resolvers.

A domain is verified by any of: a TXT record ``_berth-verify.<domain>`` holding its token, a
CNAME to its site's hostname, or A/AAAA records that are all edge addresses (EDGE_IPV4/6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    import dns.resolver


@dataclass
class DnsAnswer:
    """What DNS said about a domain, kept to show the user when verification fails."""

    txt: list[str] = field(default_factory=list)
    cname: list[str] = field(default_factory=list)
    a: list[str] = field(default_factory=list)
    aaaa: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unreachable: bool = False

    def as_dict(self) -> dict:
        return {
            "txt": self.txt,
            "cname": self.cname,
            "a": self.a,
            "aaaa": self.aaaa,
            "errors": self.errors,
        }


@dataclass
class CheckResult:
    verified: bool
    method: str  # "txt" | "cname" | "a" | ""
    answer: DnsAnswer
    message: str


def resolver() -> dns.resolver.Resolver:
    """A resolver over DNS_RESOLVERS ("ip" or "ip:port"), or the system's when empty."""
    # dnspython (~4 MiB) loads in the process that checks a domain, not in every process.
    import dns.nameserver
    import dns.resolver

    if not settings.DNS_RESOLVERS:
        res = dns.resolver.Resolver()
    else:
        res = dns.resolver.Resolver(configure=False)
        nameservers = []
        for item in settings.DNS_RESOLVERS:
            host, port = item, 53
            if item.count(":") == 1:  # "ip:port" (an IPv6 address has several colons)
                host, _, raw = item.partition(":")
                port = int(raw)
            nameservers.append(dns.nameserver.Do53Nameserver(host, port) if port != 53 else host)
        res.nameservers = nameservers
    res.lifetime = 5.0
    res.timeout = 2.0
    res.cache = None
    return res


def _lookup(res, name: str, rdtype: str, answer: DnsAnswer) -> list:
    import dns.exception
    import dns.resolver

    try:
        return list(res.resolve(name, rdtype, raise_on_no_answer=False, search=False))
    except dns.resolver.NXDOMAIN:
        return []
    except dns.exception.Timeout:
        answer.errors.append(f"{rdtype} {name}: no answer in time")
        answer.unreachable = True
        return []
    except dns.resolver.NoNameservers:
        answer.errors.append(f"{rdtype} {name}: no server answered")
        answer.unreachable = True
        return []
    except dns.exception.DNSException as exc:
        answer.errors.append(f"{rdtype} {name}: {exc}")
        return []


def _cname_of(res, name: str, answer: DnsAnswer) -> list[str]:
    # Ask for the CNAME itself, so a chain's first hop is what we compare.
    return [
        r.target.to_text(omit_final_dot=True).lower() for r in _lookup(res, name, "CNAME", answer)
    ]


def lookup(name: str, *, token_name: str) -> DnsAnswer:
    res = resolver()
    answer = DnsAnswer()
    for record in _lookup(res, token_name, "TXT", answer):
        answer.txt.append(b"".join(record.strings).decode("ascii", "replace"))
    if answer.unreachable:
        return answer  # the resolvers are down: asking more only waits longer
    answer.cname = _cname_of(res, name, answer)
    answer.a = sorted(r.address for r in _lookup(res, name, "A", answer))
    answer.aaaa = sorted(r.address for r in _lookup(res, name, "AAAA", answer))
    return answer


def check(name: str, *, token: str, site_hostname: str | None) -> CheckResult:
    """Whether ``name`` is proven to belong here, and by which record."""
    answer = lookup(name, token_name=f"_berth-verify.{name}")
    if any(value.strip() in (token, f"berth-verify={token}") for value in answer.txt):
        return CheckResult(True, "txt", answer, "The TXT record holds the verification token.")
    if site_hostname and site_hostname.lower() in answer.cname:
        return CheckResult(True, "cname", answer, f"{name} is a CNAME of {site_hostname}.")
    edge = {*settings.EDGE_IPV4, *settings.EDGE_IPV6}
    addresses = answer.a + answer.aaaa
    if edge and addresses and set(addresses) <= edge:
        return CheckResult(True, "a", answer, f"{name} points at Berth's edge.")
    if answer.errors and not (answer.txt or answer.cname or addresses):
        return CheckResult(False, "", answer, "DNS did not answer: " + "; ".join(answer.errors))
    if addresses and edge and not set(addresses) <= edge:
        stray = ", ".join(sorted(set(addresses) - edge))
        return CheckResult(False, "", answer, f"{name} points at {stray}, not at Berth.")
    if answer.txt:
        return CheckResult(
            False, "", answer, f"_berth-verify.{name} has TXT records, but none holds the token."
        )
    return CheckResult(False, "", answer, f"No record for {name} points at Berth yet.")


def points_at_edge(name: str, site_hostname: str | None) -> bool:
    """Whether ``name`` reaches the edge (used to add www. to a certificate only if it does)."""
    res = resolver()
    answer = DnsAnswer()
    if site_hostname and site_hostname.lower() in _cname_of(res, name, answer):
        return True
    edge = {*settings.EDGE_IPV4, *settings.EDGE_IPV6}
    addresses = [r.address for t in ("A", "AAAA") for r in _lookup(res, name, t, answer)]
    return bool(edge and addresses and set(addresses) <= edge)
