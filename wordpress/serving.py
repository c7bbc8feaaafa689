"""WordPress sites in the embedded site server: static files from the site's folder, PHP to
its pool over FastCGI, with the same rules as the nginx edge's locations (hosting/serving/
nginx.py): permalinks through index.php, no PHP under wp-content/uploads, xmlrpc.php off,
dotfiles and wp-config.php never served.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

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
    return await _php(scope, receive, send, layout, value, hostname)


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


async def _php(scope, receive, send, layout, script: str, hostname: str) -> int:
    limit = (settings.WORDPRESS_UPLOAD_LIMIT_MB + 1) * 1024 * 1024
    body = await _read_body(receive, limit)
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
