"""Which site addresses (``<slug>.<SITES_DOMAIN>``) a user may take: the one place the API, the
create form and the live address check all ask (through the model's slug validator).

Reserved: names the panel, its mail and its nameservers use or will use, names that would
mislead visitors (``admin``, ``status``), and punycode labels (``xn--``) that spell one of
them with look-alike letters (``аdmin`` with a Cyrillic "а") or are not valid IDNA at all.
Two hyphens in a row elsewhere are kept: ``<short id>--<slug>`` is a deployment's own address.
"""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings

# One DNS label: lower-case letters, digits and inner hyphens, at most 63 characters.
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")

RESERVED_SLUGS = frozenset(
    {
        # the panel and its API
        *("www", "api", "admin", "panel", "berth", "dashboard", "app", "static", "media", "ws"),
        # DNS, mail and the machine itself (ns1/ns2 are the default nameservers)
        *("ns", "ns1", "ns2", "ns3", "ns4", "dns", "mail", "smtp", "imap", "pop", "mx", "ftp"),
        *("localhost", "autoconfig", "autodiscover", "_acme-challenge"),
        # names visitors trust
        *("status", "support", "help", "billing", "security", "abuse", "postmaster", "root"),
    }
)

# Letters of other scripts that look like Latin ones in most fonts.
LOOKALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "α": "a", "ο": "o", "ν": "v",
        "ρ": "p", "τ": "t", "ι": "i", "κ": "k", "ε": "e", "ı": "i", "ℓ": "l",
    }
)  # fmt: skip


def reserved_slugs() -> frozenset[str]:
    """The fixed list plus the first labels of Berth's own nameservers under SITES_DOMAIN."""
    suffix = "." + settings.SITES_DOMAIN.lower()
    own = {
        host.lower().removesuffix(".").removesuffix(suffix)
        for host in getattr(settings, "DNS_NAMESERVERS", [])
        if host.lower().removesuffix(".").endswith(suffix)
    }
    return RESERVED_SLUGS | {label for label in own if "." not in label}


def _ascii_skeleton(label: str) -> str:
    """What a Unicode label looks like in Latin letters: accents dropped, look-alikes mapped."""
    decomposed = unicodedata.normalize("NFKD", label.lower().translate(LOOKALIKES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(LOOKALIKES)


def slug_problem(value: str) -> str | None:
    """Why ``value`` cannot be a site's address, or None when it can."""
    if not SLUG_RE.match(value or ""):
        return (
            "Use 1–63 lower-case letters, digits and hyphens, not starting or ending with a hyphen."
        )
    reserved = reserved_slugs()
    if value in reserved:
        return f"“{value}” is reserved; choose another address."
    if value[2:4] == "--":  # IDNA keeps "??--" labels for encodings such as punycode (xn--)
        if not value.startswith("xn--"):
            return "Hyphens in the third and fourth places are kept for encoded names."
        try:
            decoded = value.encode("ascii").decode("idna")
        except UnicodeError:
            return f"“{value}” is not a valid encoded (punycode) name."
        if _ascii_skeleton(decoded) in reserved:
            return f"“{value}” ({decoded}) looks like a reserved name; choose another address."
    if "--" in value.removeprefix("xn--"):  # kept for deployment and preview addresses
        return "Two hyphens in a row are kept for deployment and preview addresses."
    return None
