"""Netlify-style ``_redirects`` and ``_headers`` files, parsed once per deployment.

``_redirects``: one rule a line, ``from to [status][!]``; ``#`` starts a comment. ``from`` is a
path with ``:name`` placeholders (one segment each) and an optional trailing ``*`` (the rest,
available as ``:splat``); a rule without a splat also matches with a trailing slash. ``to`` is a
path or an http(s) URL and may use the placeholders. Statuses: 301 (default), 302, 303, 307, 308
redirect; 200 serves ``to`` instead (a rewrite); 404 serves ``to`` with status 404. A ``!``
forces the rule even when a file exists at the path. Query conditions and proxying are not
supported; such lines are skipped and reported.

``_headers``: a path pattern line (``*`` matches anything, ``:name`` one segment) followed by
indented ``Name: value`` lines. Every block matching the request path adds its headers, in file
order. Headers the server owns (Content-Type, ETag, ...) cannot be set.

Rules reach the nginx configuration verbatim, so what may appear in them is strict: paths and
values may not contain quotes, backslashes, ``$``, braces or control characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_REDIRECTS = 1000
MAX_HEADER_BLOCKS = 200
MAX_VALUE = 2000

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
REWRITE_STATUSES = {200, 404}
# Headers the server decides; a _headers file cannot set them.
RESERVED_HEADERS = {
    "accept-ranges",
    "connection",
    "content-encoding",
    "content-length",
    "content-range",
    "content-type",
    "date",
    "etag",
    "keep-alive",
    "last-modified",
    "location",
    "server",
    "set-cookie",
    "transfer-encoding",
    "vary",
}

_PATH_CHARS = re.compile(r"^/[A-Za-z0-9._~/%@!+,=()*:&-]*$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d+)?(/[A-Za-z0-9._~/%@!+,=()*:&?#-]*)?$")
_TARGET_PATH = re.compile(r"^/[A-Za-z0-9._~/%@!+,=()*:&?#-]*$")
_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#%&'*+.^_`|~-]+$")
_UNSAFE_VALUE = re.compile(r'["\\$\x00-\x1f\x7f]')


@dataclass(frozen=True)
class Redirect:
    source: str
    target: str
    status: int
    force: bool
    regex: str  # anchored; PCRE and Python read it alike
    line: int

    @property
    def is_rewrite(self) -> bool:
        return self.status in REWRITE_STATUSES

    @property
    def is_external(self) -> bool:
        return self.target.startswith(("http://", "https://"))


@dataclass(frozen=True)
class HeaderBlock:
    pattern: str
    regex: str
    headers: tuple[tuple[str, str], ...]
    line: int


@dataclass
class Parsed:
    redirects: list[Redirect] = field(default_factory=list)
    headers: list[HeaderBlock] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _pattern_regex(pattern: str, *, splat_tail: bool) -> str | None:
    """``/blog/:year/*`` -> an anchored regex with named groups ``b_year`` and ``b_splat``."""
    names: set[str] = set()
    out = ["^"]
    body = pattern
    tail = ""
    if splat_tail and body.endswith("/*"):
        body, tail = body[:-2], "(?:/(?P<b_splat>.*))?"
    elif splat_tail and body == "*":
        body, tail = "", "(?P<b_splat>.*)"
    pos = 0
    for match in _PLACEHOLDER.finditer(body):
        out.append(re.escape(body[pos : match.start()]).replace("\\*", ".*"))
        name = match.group(1)
        if name in names or name == "splat":
            return None
        names.add(name)
        out.append(f"(?P<b_{name}>[^/]+)")
        pos = match.end()
    out.append(re.escape(body[pos:]).replace("\\*", ".*"))
    if tail:
        out.append(tail)
    elif splat_tail and body not in ("", "/"):
        out.append("/?")
    out.append("$")
    regex = "".join(out)
    if splat_tail and "*" in body:  # a splat elsewhere than the end
        return None
    return regex


def parse_redirects(text: str, parsed: Parsed | None = None) -> Parsed:
    parsed = parsed or Parsed()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if len(parsed.redirects) >= MAX_REDIRECTS:
            parsed.problems.append(
                f"_redirects: more than {MAX_REDIRECTS} rules; the rest ignored."
            )
            break
        parts = line.split()
        if len(parts) < 2 or len(parts) > 3:
            parsed.problems.append(f"_redirects line {number}: expected “from to [status]”.")
            continue
        source, target = parts[0], parts[1]
        status, force = 301, False
        if len(parts) == 3:
            code = parts[2]
            force = code.endswith("!")
            code = code.rstrip("!")
            if not code.isdigit():
                parsed.problems.append(f"_redirects line {number}: “{parts[2]}” is not a status.")
                continue
            status = int(code)
        if status not in REDIRECT_STATUSES | REWRITE_STATUSES:
            parsed.problems.append(f"_redirects line {number}: status {status} is not supported.")
            continue
        if not _PATH_CHARS.match(source) or source.count("*") > 1:
            parsed.problems.append(f"_redirects line {number}: “{source}” is not a usable path.")
            continue
        external = target.startswith(("http://", "https://"))
        if (
            (external and (status in REWRITE_STATUSES or not _URL.match(target)))
            or (not external and not _TARGET_PATH.match(target))
            or (status in REWRITE_STATUSES and "?" in target)
        ):
            parsed.problems.append(
                f"_redirects line {number}: “{target}” is not a usable target "
                "(rewrites need a path on the site)."
            )
            continue
        regex = _pattern_regex(source, splat_tail=True)
        if regex is None:
            parsed.problems.append(
                f"_redirects line {number}: “{source}” has a misplaced * or a repeated placeholder."
            )
            continue
        parsed.redirects.append(Redirect(source, target, status, force, regex, number))
    return parsed


def parse_headers(text: str, parsed: Parsed | None = None) -> Parsed:
    parsed = parsed or Parsed()
    pattern: str | None = None
    start = 0
    values: list[tuple[str, str]] = []

    def close() -> None:
        if pattern is not None and values:
            regex = _pattern_regex(pattern, splat_tail=False)
            if regex is None:
                parsed.problems.append(f"_headers line {start}: “{pattern}” repeats a placeholder.")
            elif len(parsed.headers) < MAX_HEADER_BLOCKS:
                parsed.headers.append(HeaderBlock(pattern, regex, tuple(values), start))

    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            close()
            pattern, start, values = raw.strip(), number, []
            if not _PATH_CHARS.match(pattern):
                parsed.problems.append(f"_headers line {number}: “{pattern}” is not a usable path.")
                pattern = None
            continue
        if pattern is None:
            continue
        name, sep, value = raw.strip().partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not _HEADER_NAME.match(name) or not value:
            parsed.problems.append(f"_headers line {number}: expected “Name: value”.")
        elif name.lower() in RESERVED_HEADERS:
            parsed.problems.append(f"_headers line {number}: {name} is set by the server.")
        elif len(value) > MAX_VALUE or _UNSAFE_VALUE.search(value):
            parsed.problems.append(
                f'_headers line {number}: the value of {name} is too long or uses ", \\ or $.'
            )
        else:
            values.append((name, value))
    close()
    return parsed


def substitute(target: str, groups: dict[str, str | None]) -> str:
    """Fill ``:splat`` and ``:name`` in a target from a match (unknown names stay as written)."""

    def fill(match: re.Match) -> str:
        value = groups.get(f"b_{match.group(1)}")
        if value is None and f"b_{match.group(1)}" not in groups:
            return match.group(0)
        return value or ""

    return _PLACEHOLDER.sub(fill, target)
