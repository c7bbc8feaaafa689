"""The embedded server's FastCGI client against php-fpm itself: params, request bodies larger
than one record, responses in many records, the Status header, and a pool that is not there."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from conftest import require_binary
from wordpress import fastcgi

SCRIPT = """<?php
header('Status: 201 Created');
header('X-Echo: ' . $_SERVER['HTTP_X_ECHO']);
error_log('to stderr');
echo json_encode([
    'method' => $_SERVER['REQUEST_METHOD'],
    'query' => $_GET,
    'body_length' => strlen(file_get_contents('php://input')),
]);
echo "\\n", str_repeat('x', 200000);
"""


@pytest.fixture
def pool():
    binary = require_binary("php-fpm8.2")
    root = Path(tempfile.mkdtemp(prefix="berth-fcgi-"))
    (root / "echo.php").write_text(SCRIPT)
    socket = root / "fpm.sock"
    (root / "fpm.conf").write_text(
        "[global]\nerror_log = /dev/null\ndaemonize = no\n[t]\n"
        + ("user = nobody\ngroup = nogroup\n" if os.geteuid() == 0 else "")
        + f"listen = {socket}\nlisten.mode = 0666\npm = static\npm.max_children = 1\n"
        "catch_workers_output = yes\n"
    )
    os.chmod(root, 0o755)  # noqa: S103 - nobody reads the script
    proc = subprocess.Popen(
        [binary, "--nodaemonize", "--fpm-config", str(root / "fpm.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield root
    proc.terminate()
    proc.wait(10)
    subprocess.run(["rm", "-rf", str(root)], check=False)


def run(socket: str, params: dict, body: bytes = b""):
    async def go():
        response = await fastcgi.request(socket, params, body)
        rest = b"".join([chunk async for chunk in response.rest])
        return response, response.first + rest

    return async_to_sync(go)()


def test_a_request_reaches_php_and_the_whole_answer_comes_back(pool):
    body = b"a=" + b"y" * 150_000  # more than two FastCGI records
    params = {
        "SCRIPT_FILENAME": str(pool / "echo.php"),
        "REQUEST_METHOD": "POST",
        "QUERY_STRING": "page=2",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_ECHO": "é" * 200,  # a value longer than 127 bytes: 4-byte length
    }
    response, content = run(str(pool / "fpm.sock"), params, body)
    assert response.status == 201
    assert (b"x-echo", ("é" * 200).encode("latin-1", "replace")) in response.headers
    first, rest = content.split(b"\n", 1)
    assert json.loads(first) == {"method": "POST", "query": {"page": "2"}, "body_length": 150002}
    assert rest == b"x" * 200000


def test_a_missing_pool_is_an_error_not_a_hang(tmp_path):
    with pytest.raises(fastcgi.FastCGIError, match="does not answer"):
        run(str(tmp_path / "nothing.sock"), {"REQUEST_METHOD": "GET"})


def test_headers_parse_like_cgi():
    status, headers = fastcgi.parse_head(b"Status: 302 Found\r\nLocation: /x\r\nSet-Cookie: a=1")
    assert status == 302 and headers == [(b"location", b"/x"), (b"set-cookie", b"a=1")]
    assert fastcgi.parse_head(b"Content-Type: text/html")[0] == 200
