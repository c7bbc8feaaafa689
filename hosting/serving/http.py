"""HTTP details both servers share, written to match what nginx does with the edge config.

The embedded server answers exactly as nginx (static module, gzip_static, brotli_static,
range and not-modified filters) does for the generated configuration, so one contract test
suite can compare the two byte for byte. Where this module copies an nginx quirk, the comment
says which.
"""

from __future__ import annotations

import functools
import mimetypes
import re
from dataclasses import dataclass
from email.utils import formatdate, parsedate_tz
from pathlib import Path

from deployments.blobs import EXTRA_TYPES, content_type_for

CACHE_REVALIDATE = "public, max-age=0, must-revalidate"
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_NO_STORE = "no-store"
DEFAULT_TYPE = "application/octet-stream"

# A fingerprinted file name: a dot or hyphen, 8-64 letters/digits/underscores holding at least
# one digit and one letter (a content hash), then the extension: app.3f2a9c1b.js,
# index-BRpkT4aA.css. Requiring both keeps dates (photo-20240105.jpg) and words revalidating;
# a hash that is all digits is simply revalidated, which is safe. PCRE and Python agree on it.
FINGERPRINT = (
    r"[.-](?=[A-Za-z0-9_]*[0-9])(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,64}\.[A-Za-z0-9]+$"
)
_fingerprint = re.compile(FINGERPRINT)

# Statuses whose Cache-Control may be "immutable" (the file itself, or a part of it).
IMMUTABLE_STATUSES = (200, 206, 304)

# Error pages of our own (mtime fixed so both servers compute the same ETag).
PAGES_DIR = Path(__file__).resolve().parent / "pages"
PAGE_MTIME = 1_700_000_000

REASONS = {
    301: "301 Moved Permanently",
    302: "302 Found",
    303: "303 See Other",
    307: "307 Temporary Redirect",
    308: "308 Permanent Redirect",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Not Allowed",
    412: "412 Precondition Failed",
    413: "413 Request Entity Too Large",
    416: "416 Requested Range Not Satisfiable",
    502: "502 Bad Gateway",
}


def cache_control(status: int, served_path: str) -> str:
    """Fingerprinted files never change under their name; everything else revalidates."""
    if status in IMMUTABLE_STATUSES and _fingerprint.search(served_path):
        return CACHE_IMMUTABLE
    return CACHE_REVALIDATE


@functools.cache
def content_types() -> dict[str, str]:
    """Extension -> Content-Type, the table rendered into nginx's ``types`` block."""
    mimetypes.init()
    exts = {e.lstrip(".").lower() for e in (*mimetypes.types_map, *EXTRA_TYPES)}
    table = {}
    for ext in sorted(exts):
        if re.fullmatch(r"[a-z0-9][a-z0-9+_-]*", ext):
            ctype = content_type_for(f"file.{ext}")
            if ctype != DEFAULT_TYPE:
                table[ext] = ctype
    return table


def extension(path: str) -> str:
    """nginx's ``$exten``: after the last dot of the last segment (so ``.html`` -> ``html``)."""
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def type_for(path: str) -> str:
    return _type_for_extension(extension(path))


@functools.lru_cache(maxsize=1024)
def _type_for_extension(ext: str) -> str:
    return content_types().get(ext, DEFAULT_TYPE)


def etag(mtime: int, size: int) -> str:
    """nginx's strong ETag: hex modification time and hex size."""
    return f'"{mtime:x}-{size:x}"'


@functools.lru_cache(maxsize=4096)
def http_date(timestamp: int) -> str:
    return formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> int | None:
    parsed = parsedate_tz(value.strip())
    if parsed is None or parsed[9] not in (0, None):
        return None
    from calendar import timegm

    try:
        return timegm(parsed[:6])
    except (OverflowError, ValueError):
        return None


def nginx_page(status: int) -> bytes:
    """nginx's built-in body for a status (server_tokens off): used for redirects and 416."""
    title = REASONS[status]
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


@functools.cache
def own_page(status: int | str) -> bytes:
    """Berth's page for an unknown address (404), an offline site (503) or a site whose team
    is suspended ("suspended", answered with 503)."""
    return (PAGES_DIR / f"{status}.html").read_bytes()


def _quality(params: str) -> float:
    """The q of ``;q=0.5`` (nginx: anything unparsable after ';' refuses the coding)."""
    params = params.strip()
    if not params:
        return 1.0
    match = re.fullmatch(r";\s*[qQ]\s*=\s*([0-9.]+)\s*", params)
    if not match:
        return 0.0
    try:
        return float(match.group(1))
    except ValueError:
        return 0.0


def accepts_gzip(accept_encoding: str, http_version: str) -> bool:
    """ngx_http_gzip_accept_encoding: the first "gzip" at a token start, q not zero, HTTP/1.1."""
    if http_version in ("1.0", "0.9") or not accept_encoding:
        return False
    match = re.search(r"(?:^|(?<=[, ]))gzip", accept_encoding, re.IGNORECASE)
    if not match:
        return False
    rest = accept_encoding[match.end() :]
    head = rest.split(",", 1)[0]
    if head.strip() == "":
        return True
    if not head.lstrip(" ").startswith(";"):
        return False
    return _quality(head.lstrip(" ")) > 0


def accepts_brotli(accept_encoding: str) -> bool:
    """ngx_brotli's check: a "br" token (any case), q not zero."""
    for part in (accept_encoding or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == "br":
            return _quality(";" + params if params else "") > 0
    return False


def etag_matches(header: str, current: str, *, weak: bool) -> bool:
    """nginx's If-(None-)Match test: ``*`` or any listed tag (``W/`` ignored when weak)."""
    header = header.strip()
    if header == "*":
        return True
    for tag in re.findall(r'(?:W/)?"[^"]*"', header):
        if weak and tag.startswith("W/"):
            tag = tag[2:]
        if tag == current:
            return True
    return False


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive


NOT_SATISFIABLE = "416"


def parse_range(value: str, length: int) -> ByteRange | str | None:
    """ngx_http_range_parse with max_ranges 1: a range, NOT_SATISFIABLE, or None (send all)."""
    if len(value) < 7 or value[:6].lower() != "bytes=":
        return None
    text = value[6:] + "\0"
    pos, found, total = 0, [], 0

    def digits(pos: int) -> tuple[int, int]:
        number = 0
        while text[pos].isdigit():
            number = number * 10 + int(text[pos])
            pos += 1
        return number, pos

    def spaces(pos: int) -> int:
        while text[pos] == " ":
            pos += 1
        return pos

    while True:
        pos = spaces(pos)
        start = end = 0
        open_ended = suffix = False
        if text[pos] != "-":
            if not text[pos].isdigit():
                return NOT_SATISFIABLE
            start, pos = digits(pos)
            pos = spaces(pos)
            if text[pos] != "-":
                return NOT_SATISFIABLE
            pos = spaces(pos + 1)
            if text[pos] in ",\0":
                end, open_ended = length, True
        else:
            suffix, pos = True, pos + 1
        if not open_ended:
            if not text[pos].isdigit():
                return NOT_SATISFIABLE
            end, pos = digits(pos)
            pos = spaces(pos)
            if text[pos] not in ",\0":
                return NOT_SATISFIABLE
            if suffix:
                start, end = (length - end if end < length else 0), length
            else:
                end = length if end >= length else end + 1
        if start < end:
            if found:  # a second range: more than max_ranges 1, so the whole file is sent
                return None
            found.append(ByteRange(start, end))
            total += end - start
        elif start == 0:
            return None
        if text[pos] != ",":
            break
        pos += 1
    if not found:
        return NOT_SATISFIABLE
    if total > length:
        return None
    return found[0]
