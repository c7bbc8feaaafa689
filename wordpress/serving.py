"""WordPress sites in the embedded site server: static files from the site's folder, PHP to
its pool over FastCGI, with the same rules as the nginx edge's locations (hosting/serving/
nginx.py): permalinks through index.php, no PHP under wp-content/uploads, xmlrpc.php off,
dotfiles and wp-config.php never served.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings

from hosting.serving import http as h
from hosting.serving.resolve import normalise_path
from wordpress import fastcgi
from wordpress.layout import layout_for
from wordpress.system import SHARED_READ

CHUNK = 256 * 1024
UPLOAD_PHP = re.compile(r"^/wp-content/uploads/.*\.(php\d?|phtml|phar)$", re.IGNORECASE)
HIDDEN = re.compile(r"/\.(?!well-known/)")
DENIED = {"/wp-config.php", "/xmlrpc.php"}
# Request headers not passed to PHP: hop-by-hop, and Proxy (httpoxy).
SKIPPED = {b"proxy", b"connection", b"keep-alive", b"transfer-encoding", b"upgrade"}


def route(htdocs: Path, path: str) -> tuple[str, str]:
    """What to do with a normalised path: ("php", script), ("file", path), ("redirect",
    location), or ("status", code)."""
    if path in DENIED or HIDDEN.search(path):
        return "status", "403" if path == "/xmlrpc.php" else "404"
    if UPLOAD_PHP.match(path):
        return "status", "403"
    target = htdocs / path.lstrip("/")
    real = os.path.realpath(target)
    inside = real == str(htdocs) or real.startswith(str(htdocs) + "/")
    if not inside and not any(real.startswith(folder) for folder in SHARED_READ):
        return "status", "404"
    if path.endswith(".php"):
        return ("php", path) if os.path.isfile(real) else ("status", "404")
    if os.path.isdir(real):
        if not path.endswith("/"):
            return "redirect", path + "/"
        if os.path.isfile(os.path.join(real, "index.php")):
            return "php", path + "index.php"
        if os.path.isfile(os.path.join(real, "index.html")):
            return "file", path + "index.html"
        return "status", "403"
    if os.path.isfile(real):
        return "file", path
    return "php", "/index.php"  # pretty permalinks: WordPress routes the rest


async def serve(scope, receive, send, *, site_id, hostname: str) -> int:
    """Answer one request for a WordPress site; returns the body bytes sent."""
    layout = layout_for(site_id)
    htdocs = layout.htdocs
    head = scope["method"] == "HEAD"
    path = normalise_path(scope["path"])
    if path is None:
        return await _page(send, 400, head)
    kind, value = route(htdocs, path)
    if kind == "status":
        return await _page(send, int(value), head)
    if kind == "redirect":
        query = scope.get("query_string", b"")
        location = value.encode() + (b"?" + query if query else b"")
        await send(
            {
                "type": "http.response.start",
                "status": 301,
                "headers": [(b"location", location), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return 0
    if kind == "file":
        return await _file(send, htdocs / value.lstrip("/"), value, head)
    return await _php(scope, receive, send, layout, value, hostname, site_id)


async def _page(send, status: int, head: bool) -> int:
    body = h.own_page(status) if status in (404, 503) else h.nginx_page(status)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", h.CACHE_NO_STORE.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"" if head else body})
    return 0 if head else len(body)


async def _file(send, target: Path, path: str, head: bool) -> int:
    try:
        handle = open(target, "rb")  # noqa: SIM115 - closed below, after streaming
    except OSError:
        return await _page(send, 404, head)
    with handle:
        stat = os.fstat(handle.fileno())
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", h.type_for(path).encode()),
                    (b"content-length", str(stat.st_size).encode()),
                    (b"last-modified", h.http_date(int(stat.st_mtime)).encode()),
                    (b"cache-control", h.CACHE_REVALIDATE.encode()),
                ],
            }
        )
        if head:
            await send({"type": "http.response.body", "body": b""})
            return 0
        sent = 0
        while chunk := handle.read(CHUNK):
            sent += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return sent


async def _read_body(receive, limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit``."""
    body = bytearray()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > limit:
            return None
    return bytes(body)


def params_for(scope, layout, script: str, hostname: str, body_length: int) -> dict[str, str]:
    htdocs = str(layout.htdocs)
    raw = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("127.0.0.1", 0)
    https = scope.get("scheme") == "https"
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "berth",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REQUEST_METHOD": scope["method"],
        "REQUEST_SCHEME": "https" if https else "http",
        "SCRIPT_FILENAME": htdocs + script,
        "SCRIPT_NAME": script,
        "DOCUMENT_URI": script,
        "PHP_SELF": script,
        "DOCUMENT_ROOT": htdocs,
        "REQUEST_URI": raw + (f"?{query}" if query else ""),
        "QUERY_STRING": query,
        "SERVER_NAME": hostname,
        "SERVER_ADDR": str(server[0]),
        "SERVER_PORT": str(server[1] or (443 if https else 80)),
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(body_length) if body_length else "",
        "CONTENT_TYPE": "",
    }
    if https:
        params["HTTPS"] = "on"
    for name, value in scope["headers"]:
        name = name.lower()
        if name in SKIPPED:
            continue
        if name == b"content-type":
            params["CONTENT_TYPE"] = value.decode("latin-1")
            continue
        if name == b"content-length":
            continue
        key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        params[key] = f"{params[key]}, {text}" if key in params else text
    return params


# A site's largest request body (its upload size, set within its plan), read from the database
# at most every LIMIT_TTL seconds per site, off the event loop.
LIMIT_TTL = 30.0
_body_limits: dict = {}


def _upload_mb(site_id) -> int:
    from wordpress.models import WordPressSite

    found = (
        WordPressSite.objects.filter(site_id=site_id)
        .values_list("upload_limit_mb", flat=True)
        .first()
    )
    return found or settings.WORDPRESS_UPLOAD_LIMIT_MB


async def body_limit(site_id) -> int:
    """Bytes a request to the site may send: its upload size and 1 MB for the rest of a form
    (as ``post_max_size`` in its pool)."""
    now = time.monotonic()
    cached = _body_limits.get(site_id)
    if cached is None or now - cached[1] > LIMIT_TTL:
        mb = await sync_to_async(_upload_mb, thread_sensitive=False)(site_id)
        cached = _body_limits[site_id] = ((mb + 1) * 1024 * 1024, now)
    return cached[0]


async def _php(scope, receive, send, layout, script: str, hostname: str, site_id) -> int:
    body = await _read_body(receive, await body_limit(site_id))
    head = scope["method"] == "HEAD"
    if body is None:
        return await _page(send, 413, head)
    params = params_for(scope, layout, script, hostname, len(body))
    try:
        response = await fastcgi.request(
            str(layout.socket),
            params,
            body,
            timeout=settings.WORDPRESS_MAX_EXECUTION_SECONDS + 30,
        )
    except fastcgi.FastCGIError:
        return await _page(send, 502, head)
    await send(
        {"type": "http.response.start", "status": response.status, "headers": response.headers}
    )
    sent = 0
    if not head and response.first:
        sent += len(response.first)
        await send({"type": "http.response.body", "body": response.first, "more_body": True})
    try:
        async for chunk in response.rest:
            if not head:
                sent += len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except fastcgi.FastCGIError:
        pass  # the headers are gone: end the body where PHP stopped
    await send({"type": "http.response.body", "body": b""})
    return sent
