"""Protected previews: a site's preview and deployment addresses behind the team's sign-in or a
password, checked by both servers without asking the panel.

A visitor without a valid cookie is sent to the panel (``/previews/unlock/``), which checks the
sign-in or the password and sends them back through ``<address>/.berth/unlock/<signature>/
<expires><path>``, which the server turns into two cookies on that address. The signature is nginx's
``secure_link_md5`` format (base64url of MD5 over ``<expires><host> <site secret>``), so the
nginx edge checks it with its own module; the embedded server computes the same. The site's
secret is random, kept encrypted, and replaced whenever its protection changes, which signs out
every visitor of its previews. The production address and custom domains are never locked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from django.conf import settings

COOKIE = "berth_preview"
COOKIE_EXPIRES = "berth_preview_expires"
UNLOCK_PREFIX = "/.berth/unlock/"
PANEL_PATH = "/previews/unlock/"
# Where an unlock link may send its visitor back to: a path (and query) on the same address, in
# characters that need no escaping in a header or in nginx's configuration (no backslash, no
# ``//`` that a browser would read as another host).
_NEXT_CHARS = "A-Za-z0-9._~!*+,;=:@%?&()"
NEXT_PATTERN = f"/(?:[{_NEXT_CHARS}-][{_NEXT_CHARS}/-]*)?"
SIGNATURE_PATTERN = "[A-Za-z0-9_-]{22}"
EXPIRES_PATTERN = "[0-9]{1,12}"
_UNLOCK = re.compile(
    rf"^{re.escape(UNLOCK_PREFIX)}(?P<sig>{SIGNATURE_PATTERN})/(?P<exp>{EXPIRES_PATTERN})"
    rf"(?P<next>{NEXT_PATTERN})$"
)


def signature(host: str, expires: int, secret: str) -> str:
    # MD5 because it is what nginx's secure_link module checks; the secret is 32 random bytes.
    digest = hashlib.md5(f"{expires}{host} {secret}".encode(), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def valid(host: str, sig: str, expires: str, secret: str, *, now: float | None = None) -> bool:
    """Whether a signature (from the cookie or the unlock link) opens ``host`` now."""
    if not secret or not sig or not expires.isdigit():
        return False
    if int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(signature(host, int(expires), secret), sig)


def safe_next(path: str) -> str:
    """A path on the same address to return to; anything else (another host) becomes ``/``."""
    return path if path and re.fullmatch(NEXT_PATTERN, path) else "/"


def unlock_parse(raw_path: str) -> tuple[str, str, str] | None:
    """(signature, expires, next) of an unlock link's path, None when it is not one."""
    match = _UNLOCK.match(raw_path)
    return (match["sig"], match["exp"], match["next"]) if match else None


def panel_url(host: str, asked: str) -> str:
    """Where a locked address sends its visitor: the panel's unlock page. ``next`` is the
    rest of the query, as the address received it (nginx cannot escape it)."""
    return f"{settings.PANEL_URL}{PANEL_PATH}?host={host}&next={asked}"


def unlock_link(address_url: str, host: str, secret: str, next_path: str) -> str:
    """The link that unlocks ``host`` (``address_url`` is its scheme, host and port) for
    ``PREVIEW_UNLOCK_HOURS``, then returns to ``next_path``."""
    expires = int(time.time()) + settings.PREVIEW_UNLOCK_HOURS * 3600
    sig = signature(host, expires, secret)
    return f"{address_url}{UNLOCK_PREFIX}{sig}/{expires}{safe_next(next_path)}"


def cookie_headers(sig: str, expires: str, *, secure: bool) -> list[str]:
    """The two Set-Cookie values the address sends once the unlock link checked out."""
    flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    return [f"{COOKIE}={sig}; {flags}", f"{COOKIE_EXPIRES}={expires}; {flags}"]
