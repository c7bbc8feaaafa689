"""Domain names as users type them, checked and normalised to their ASCII (IDNA) form.

``Bücher.Example.`` -> ``xn--bcher-kva.example``. Every name that reaches DNS, the registry or a
certificate passes through ``normalise_domain`` first.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import idna
from django.core.exceptions import ValidationError

LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Underscore labels are allowed in record names (_dmarc, _sip._tcp), never in host names.
SERVICE_LABEL_RE = re.compile(r"^_[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_NAME = 253


def _host_part(text: str) -> str:
    """The host of a pasted address: ``https://Shop.Example.ORG/path`` -> ``Shop.Example.ORG``."""
    text = (text or "").strip()
    if "://" in text:
        return urlsplit(text).hostname or ""
    return text.split("/", 1)[0]


def _to_ascii(text: str) -> str:
    text = _host_part(text).rstrip(".")
    if not text:
        raise ValidationError("Enter a domain name.")
    if text.isascii():
        return text.lower()
    try:
        return idna.encode(text, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValidationError(f"“{text}” is not a valid internationalised name: {exc}") from exc


def check_labels(name: str, *, allow_underscore: bool = False, allow_wildcard: bool = False):
    """Label lengths and characters of an ASCII name; raises ValidationError."""
    if len(name) > MAX_NAME:
        raise ValidationError(f"A domain name has at most {MAX_NAME} characters.")
    labels = name.split(".")
    for i, label in enumerate(labels):
        if not label:
            raise ValidationError("A domain name cannot contain empty labels (“..”).")
        if len(label) > 63:
            raise ValidationError(f"“{label[:20]}…” is longer than 63 characters.")
        if label == "*" and allow_wildcard and i == 0:
            continue
        if allow_underscore and SERVICE_LABEL_RE.match(label):
            continue
        if not LABEL_RE.match(label):
            raise ValidationError(
                f"“{label}” may hold only letters, digits and inner hyphens."
                if not label.startswith("xn--")
                else f"“{label}” is not a valid label."
            )
        if label[2:4] == "--" and not label.startswith("xn--"):
            raise ValidationError(f"“{label}” has hyphens in the 3rd and 4th place.")
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except idna.IDNAError as exc:
                raise ValidationError(f"“{label}” is not valid punycode.") from exc


def normalise_domain(text: str) -> str:
    """A registrable or attachable host name (at least two labels, alphabetic TLD)."""
    name = _to_ascii(text)
    check_labels(name)
    labels = name.split(".")
    if len(labels) < 2:
        raise ValidationError("Enter a full domain name, such as example.com.")
    tld = labels[-1]
    if not (tld.isalpha() or tld.startswith("xn--")):
        raise ValidationError("The last part of the name (the TLD) must be letters.")
    return name


def normalise_label(text: str) -> str:
    """One label, for searches such as ``mybrand`` across TLDs."""
    name = _to_ascii(text)
    if "." in name:
        raise ValidationError("Enter one name without dots.")
    check_labels(name)
    return name


def display_name(name: str) -> str:
    """The Unicode form for people (``xn--bcher-kva.example`` -> ``bücher.example``)."""
    try:
        return idna.decode(name)
    except idna.IDNAError:
        return name


def split_tld(name: str) -> tuple[str, str]:
    label, _, tld = name.partition(".")
    return label, tld
