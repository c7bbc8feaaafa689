"""Helpers for the serving tests: an in-process ASGI client, a real nginx, a real daphne."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from asgiref.sync import async_to_sync

from conftest import free_port, require_binary


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None


def asgi_get(app, host: str, path: str, headers: dict | None = None, method: str = "GET") -> Answer:
    """One request through an ASGI app, in-process."""
    raw_path, _, query = path.partition("?")
    from urllib.parse import unquote

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path),
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", host.encode())]
        + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    async_to_sync(app)(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return Answer(
        start["status"],
        [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]],
        body,
    )


def http_get(port: int, host: str, path: str, headers: dict | None = None, method="GET") -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return Answer(response.status, list(response.getheaders()), body)
    finally:
        conn.close()


def wait_port(port: int, proc: subprocess.Popen, log: Path | None = None, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            detail = log.read_text() if log and log.exists() else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {detail}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class Nginx:
    """A real nginx in the foreground on loopback, from the edge's generated config."""

    def __init__(self, root: Path, config: Path, port: int):
        self.binary = require_binary("nginx")
        self.root, self.config, self.port = root, config, port
        self.proc: subprocess.Popen | None = None

    def start(self) -> Nginx:
        log = self.root / "logs" / "error.log"
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.root), "-c", str(self.config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        wait_port(self.port, self.proc, log)
        return self

    def get(self, host: str, path: str, headers: dict | None = None, method="GET") -> Answer:
        return http_get(self.port, host, path, headers, method)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_asgi_server(
    kind: str, port: int, env: dict, cwd: Path, log: Path | None = None
) -> subprocess.Popen:
    """daphne (the embedded default) or uvicorn serving controlpanel.asgi on loopback; its
    output goes to ``log`` when given."""
    if kind == "daphne":
        args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    else:
        args = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)]
        args += ["--log-level", "warning"]
    proc = subprocess.Popen(
        [*args, "controlpanel.asgi:application"],
        cwd=cwd,
        env=env,
        stdout=log.open("wb") if log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_port(port, proc, log)
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


__all__ = ["Answer", "Nginx", "asgi_get", "free_port", "http_get", "start_asgi_server", "stop"]
