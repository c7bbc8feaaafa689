"""A small client of Berth's REST API (httpx): bearer token, the error envelope, pagination."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx

from berth_cli import __version__

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class ApiError(Exception):
    """An answer in Berth's error envelope (or no answer at all)."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    def envelope(self) -> dict:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "statusCode": self.status,
                "details": self.details,
            }
        }


def _error_from(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiError(
            response.status_code,
            str(error.get("code") or "ERROR"),
            str(error.get("message") or response.reason_phrase),
            error.get("details") if isinstance(error.get("details"), dict) else {},
        )
    return ApiError(
        response.status_code,
        "HTTP_ERROR",
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code} {response.reason_phrase}.",
    )


class Client:
    def __init__(self, url: str, token: str = "", team: str = ""):
        self.url = url.rstrip("/")
        self.token = token
        self.team = team
        headers = {"User-Agent": f"berth-cli/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        params = dict(kwargs.pop("params", None) or {})
        if self.team:
            params.setdefault("team", self.team)
        try:
            response = self.http.request(method, "/api" + path, params=params, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, "UNREACHABLE", f"Could not reach {self.url}: {exc}") from exc
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def get(self, path: str, **params) -> dict:
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: dict | None = None) -> dict:
        response = self.request("POST", path, json=body if body is not None else {})
        return response.json() if response.content else {}

    def delete(self, path: str) -> dict:
        response = self.request("DELETE", path)
        return response.json() if response.content else {}

    def put_bytes(self, path: str, data: bytes) -> dict:
        headers = {"Content-Type": "application/octet-stream"}
        return self.request("PUT", path, content=data, headers=headers).json()

    def post_files(self, path: str, files: list[tuple[str, tuple[str, bytes]]]) -> dict:
        """multipart/form-data: (field name, (file name, contents)) each."""
        return self.request("POST", path, files=files).json()

    def pages(self, path: str, key: str, limit: int = 100, **params) -> Iterator[dict]:
        """Every item of a paginated list (``{key: [...], "pagination": {...}}``)."""
        page = 1
        while True:
            body = self.get(path, page=page, limit=limit, **params)
            yield from body.get(key, [])
            pagination = body.get("pagination") or {}
            if page >= int(pagination.get("totalPages") or 1):
                return
            page += 1

    # --- look-ups the commands share ---------------------------------------------------------

    def site(self, ref: str) -> dict:
        """A site by id, slug or address (``docs`` or ``docs.<SITES_DOMAIN>``)."""
        if is_uuid(ref):
            return self.get(f"/sites/{ref}")
        wanted = ref.strip().lower()
        for site in self.pages("/sites", "sites", search=wanted.split(".")[0]):
            if wanted in (site.get("slug"), site.get("domain"), str(site.get("name")).lower()):
                return site
        raise ApiError(404, "SITE_NOT_FOUND", f"No site “{ref}” among yours.")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
