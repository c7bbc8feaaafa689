"""Real outside parties on loopback for the tests: PowerDNS Authoritative and pebble (ACME CA)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from conftest import self_signed_certificate

PDNS_SCHEMA = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"


def _wait(check, what: str, proc: subprocess.Popen, log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-2000:]}")
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}")


class PowerDnsServer:
    """pdns_server with the sqlite3 backend and its HTTP API, caches off so changes show at once."""

    api_key = "test-pdns-key"

    def __init__(self, binary: str, root: Path, dns_port: int, api_port: int):
        self.root, self.dns_port, self.api_port = root, dns_port, api_port
        self.api_url = f"http://127.0.0.1:{api_port}"
        root.mkdir(parents=True, exist_ok=True)
        database = root / "pdns.sqlite3"
        with sqlite3.connect(database) as conn:
            conn.executescript(Path(PDNS_SCHEMA).read_text())
        (root / "pdns.conf").write_text(
            "\n".join(
                [
                    "launch=gsqlite3",
                    f"gsqlite3-database={database}",
                    "local-address=127.0.0.1",
                    f"local-port={dns_port}",
                    "api=yes",
                    f"api-key={self.api_key}",
                    "webserver=yes",
                    "webserver-address=127.0.0.1",
                    f"webserver-port={api_port}",
                    "webserver-allow-from=127.0.0.0/8",
                    f"socket-dir={root}",
                    "guardian=no",
                    "daemon=no",
                    "security-poll-suffix=",
                    "cache-ttl=0",
                    "negquery-cache-ttl=0",
                    "query-cache-ttl=0",
                    "consistent-backends=yes",
                    "loglevel=3",
                ]
            )
            + "\n"
        )
        self.log = root / "pdns.log"
        self.proc = subprocess.Popen(
            [binary, f"--config-dir={root}"],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        _wait(
            lambda: (
                requests.get(
                    f"{self.api_url}/api/v1/servers/localhost",
                    headers={"X-API-Key": self.api_key},
                    timeout=1,
                ).ok
            ),
            "pdns_server",
            self.proc,
            self.log,
        )

    def zones(self) -> list[str]:
        response = requests.get(
            f"{self.api_url}/api/v1/servers/localhost/zones",
            headers={"X-API-Key": self.api_key},
            timeout=5,
        )
        return [z["name"] for z in response.json()]

    def delete_all_zones(self) -> None:
        for zone in self.zones():
            requests.delete(
                f"{self.api_url}/api/v1/servers/localhost/zones/{zone}",
                headers={"X-API-Key": self.api_key},
                timeout=5,
            )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def self_signed(root: Path, name: str = "pebble") -> tuple[Path, Path]:
    """A key pair for a loopback TLS listener (127.0.0.1 and localhost)."""
    cert, key = self_signed_certificate(root, name, ["localhost"], ips=("127.0.0.1",), ca=True)
    return Path(cert), Path(key)


class PebbleServer:
    """Debian's pebble: ACME directory on loopback, validating through the tests' PowerDNS."""

    def __init__(self, binary: str, root: Path, *, dns_port: int, ports: dict[str, int]):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.listener_cert, listener_key = self_signed(root)
        self.http_port = ports["http"]
        self.port, self.management_port = ports["acme"], ports["management"]
        self.directory_url = f"https://127.0.0.1:{self.port}/dir"
        config = {
            "pebble": {
                "listenAddress": f"127.0.0.1:{self.port}",
                "managementListenAddress": f"127.0.0.1:{self.management_port}",
                "certificate": str(self.listener_cert),
                "privateKey": str(listener_key),
                "httpPort": self.http_port,
                "tlsPort": ports["tls"],
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }
        }
        (root / "pebble.json").write_text(json.dumps(config))
        env = {
            **os.environ,
            "PEBBLE_VA_NOSLEEP": "1",
            "PEBBLE_WFE_NONCEREJECT": "0",
            "PEBBLE_AUTHZREUSE": "0",
        }
        self.log = root / "pebble.log"
        self.proc = subprocess.Popen(
            [binary, "-config", str(root / "pebble.json"), "-dnsserver", f"127.0.0.1:{dns_port}"],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=root,
        )
        _wait(
            lambda: requests.get(self.directory_url, verify=str(self.listener_cert), timeout=1).ok,
            "pebble",
            self.proc,
            self.log,
        )

    def trust_anchor(self) -> Path:
        """Pebble's issuing root and intermediate (made anew at each start), for clients."""
        path = self.root / "pebble-roots.pem"
        if not path.exists():
            base = f"https://127.0.0.1:{self.management_port}"
            pems = [
                requests.get(f"{base}/{kind}/0", verify=str(self.listener_cert), timeout=5).text
                for kind in ("roots", "intermediates")
            ]
            path.write_text("".join(p if p.endswith("\n") else p + "\n" for p in pems))
        return path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class ChallengeServer:
    """An HTTP server on pebble's httpPort answering /.well-known/acme-challenge/<token>.

    ``mode="responder"`` asks hosting.hostnames.acme_challenge (the embedded server's path);
    ``mode="files"`` reads <EDGE_ROOT>/acme like the nginx edge does."""

    def __init__(self, port: int, mode: str, edge_root: Path | None = None):
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                prefix = "/.well-known/acme-challenge/"
                server.requests.append(f"{self.headers.get('Host')}{self.path}")
                body = None
                if self.path.startswith(prefix):
                    token = self.path[len(prefix) :]
                    if mode == "responder":
                        from django.db import connection

                        from hosting.hostnames import acme_challenge

                        body = acme_challenge(token)
                        connection.close()
                    else:
                        path = edge_root / "acme" / ".well-known" / "acme-challenge" / token
                        if "/" not in token and path.is_file():
                            body = path.read_text()
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def binary_or_none(name: str) -> str | None:
    return shutil.which(name) or (
        f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None
    )
