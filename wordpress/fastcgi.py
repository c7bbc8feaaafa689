"""A small asynchronous FastCGI client (the responder role, one request per connection), used
by the embedded site server to pass PHP requests to a site's php-fpm pool.

PyPI has no maintained asyncio FastCGI client: flup's is a synchronous WSGI app (last release
2018), fcgiproto implements the application side only. The protocol a web server needs is
small (FastCGI 1.0: BEGIN_REQUEST, PARAMS, STDIN out; STDOUT, STDERR, END_REQUEST in), and
wordpress/tests/test_fastcgi.py checks it against php-fpm itself.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST = 1, 2, 3
PARAMS, STDIN, STDOUT, STDERR = 4, 5, 6, 7
RESPONDER = 1
REQUEST_ID = 1
HEADER = struct.Struct("!BBHHBx")
MAX_CONTENT = 65535
MAX_HEADER_BYTES = 64 * 1024


class FastCGIError(Exception):
    """The pool could not be reached or answered outside the protocol."""


def _record(kind: int, content: bytes = b"") -> bytes:
    padding = -len(content) % 8
    return HEADER.pack(VERSION, kind, REQUEST_ID, len(content), padding) + content + b"\0" * padding


def _records(kind: int, data: bytes) -> bytes:
    """``data`` as records of ``kind``, then the empty record that ends the stream."""
    out = [_record(kind, data[i : i + MAX_CONTENT]) for i in range(0, len(data), MAX_CONTENT)]
    out.append(_record(kind))
    return b"".join(out)


def _length(n: int) -> bytes:
    return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)


def encode_params(params: Mapping[str, str]) -> bytes:
    out = bytearray()
    for name, value in params.items():
        key, val = name.encode("latin-1"), value.encode("latin-1", "replace")
        out += _length(len(key)) + _length(len(val)) + key + val
    return bytes(out)


@dataclass
class Response:
    status: int
    headers: list[tuple[bytes, bytes]]
    first: bytes  # body bytes that came with the headers
    rest: AsyncIterator[bytes]
    stderr: list[bytes] = field(default_factory=list)


def parse_head(head: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    """CGI response headers: ``Status: 302 Found`` sets the status (default 200)."""
    status, headers = 200, []
    for line in head.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line:
            continue
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"status":
            try:
                status = int(value.split(b" ", 1)[0])
            except ValueError as exc:
                raise FastCGIError(f"Bad Status header: {value!r}") from exc
        elif name:
            headers.append((name, value))
    return status, headers


async def request(
    socket_path: str, params: Mapping[str, str], body: bytes = b"", *, timeout: float = 60
) -> Response:
    """Send one request; returns once the response headers have arrived, with the rest of the
    body to be read from ``rest`` (which closes the connection when done)."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(socket_path), timeout=5
        )
    except (OSError, TimeoutError) as exc:
        raise FastCGIError(f"The site's PHP pool does not answer: {exc}") from exc
    stderr: list[bytes] = []
    try:
        writer.write(_record(BEGIN_REQUEST, struct.pack("!HB5x", RESPONDER, 0)))
        writer.write(_records(PARAMS, encode_params(params)))
        writer.write(_records(STDIN, body))
        await writer.drain()
        stream = _stdout(reader, stderr, timeout)
        head = b""
        async for chunk in stream:
            head += chunk
            end = head.find(b"\r\n\r\n")
            sep = 4
            if end < 0:
                end, sep = head.find(b"\n\n"), 2
            if end >= 0:
                status, headers = parse_head(head[:end])
                return Response(
                    status, headers, head[end + sep :], _closing(stream, writer), stderr
                )
            if len(head) > MAX_HEADER_BYTES:
                raise FastCGIError("The response headers are too long.")
        raise FastCGIError(
            "PHP ended without a response"
            + (f": {b''.join(stderr)[:300].decode('utf-8', 'replace')}" if stderr else ".")
        )
    except BaseException:
        writer.close()
        raise


async def _stdout(reader: asyncio.StreamReader, stderr: list[bytes], timeout: float):
    while True:
        try:
            header = await asyncio.wait_for(reader.readexactly(HEADER.size), timeout)
            _, kind, _, length, padding = HEADER.unpack(header)
            content = await asyncio.wait_for(reader.readexactly(length + padding), timeout)
        except asyncio.IncompleteReadError as exc:
            raise FastCGIError("The PHP pool closed the connection mid-response.") from exc
        except TimeoutError as exc:
            raise FastCGIError(f"PHP did not answer within {timeout:.0f} s.") from exc
        content = content[:length]
        if kind == STDOUT and content:
            yield content
        elif kind == STDERR:
            stderr.append(content)
        elif kind == END_REQUEST:
            return


async def _closing(stream, writer: asyncio.StreamWriter):
    try:
        async for chunk in stream:
            yield chunk
    finally:
        writer.close()
