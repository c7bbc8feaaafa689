"""A small browser for WordPress through the embedded site server, in-process: request
bodies, cookies kept between requests."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import unquote, urlencode, urlsplit

from asgiref.sync import async_to_sync

from hosting.tests.serving_support import Answer


class SiteClient:
    def __init__(self, app, host: str):
        self.app, self.host = app, host
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, data=None, json_body=None, headers=None) -> Answer:
        parts = urlsplit(url)
        body = b""
        headers = dict(headers or {})
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            import json

            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if body:
            headers["Content-Length"] = str(len(body))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(parts.path or "/"),
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": [(b"host", self.host.encode())]
            + [(k.lower().encode(), str(v).encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 80),
        }
        sent: list[dict] = []
        chunks = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            return chunks.pop(0) if chunks else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        async_to_sync(self.app)(scope, receive, send)
        start = sent[0]
        answer = Answer(
            start["status"],
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]],
            b"".join(m.get("body", b"") for m in sent[1:]),
        )
        for name, value in answer.headers:
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    if morsel.value.strip() and morsel.value != "deleted":
                        self.cookies[morsel.key] = morsel.value
        return answer

    def get(self, url: str, **kwargs) -> Answer:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> Answer:
        return self.request("POST", url, **kwargs)
