"""Security headers Django does not set itself: a Content-Security-Policy the pages satisfy."""

from __future__ import annotations

from functools import wraps

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import QueryDict
from whitenoise.middleware import WhiteNoiseMiddleware


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(response, "csp", None) or settings.CONTENT_SECURITY_POLICY
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


def csp_override(policy: str):
    """Give one view a different policy (the API docs UI needs inline styles)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            response = view(*args, **kwargs)
            response.csp = policy
            return response

        return wrapped

    return decorator


class RefuseNulMiddleware:
    """Refuse a NUL character in any query parameter or body field, for every endpoint.

    PostgreSQL cannot store NUL in text, so a NUL that reached a query or a save would be a 500.
    One check here answers 422 VALIDATION_ERROR (the API envelope) or a 400 page instead.
    Query strings, form bodies and JSON bodies are checked here; multipart bodies of API views,
    which DRF reads later, by ``controlpanel.api.parsers.MultiPartParser``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        # After CsrfViewMiddleware: page form bodies are already parsed (it reads the token),
        # so reading request.POST here costs nothing and never cuts an upload view short.
        # API views read multipart bodies themselves (controlpanel/api/parsers.py).
        field = nul_field(request.GET)
        form = request.content_type == "application/x-www-form-urlencoded"
        page_form = request.content_type == "multipart/form-data" and not _is_api(request)
        if field is None and (
            hasattr(request, "_post") or (request.method == "POST" and (form or page_form))
        ):
            field = nul_field(request.POST)
        elif field is None and form and _small(request):  # PUT / PATCH forms (the API's)
            field = nul_field(QueryDict(request.body, encoding=request.encoding))
        if field is None and _is_json(request.content_type):
            field = _json_nul_field(request)
        if field is None:
            return None
        return nul_refusal(request, field)


def nul_field(data) -> str | None:
    """The first field of a QueryDict whose name or a value holds NUL, or None."""
    for key, values in data.lists():
        if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
            return key.replace("\x00", "\\0")
    return None


NUL_MESSAGE = "Text may not contain NUL (\\0) characters."


def nul_refusal(request, field: str):
    message = NUL_MESSAGE
    if _is_api(request) or "json" in request.headers.get("Accept", ""):
        from controlpanel.api.exceptions import error_response

        return error_response(422, "VALIDATION_ERROR", message, {field or "body": [message]})
    from django.shortcuts import render

    return render(request, "errors/400.html", {"message": message}, status=400)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _small(request) -> bool:
    """A body the parsers would read into memory anyway (bigger ones they refuse)."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    return length.isdigit() and int(length) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _json_nul_field(request) -> str | None:
    if not _small(request):
        return None
    body = request.body
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return None  # the API's parser answers the malformed body
    return _walk(data, "")


def _walk(value, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where.replace("\x00", "\\0")
            found = _walk(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


async def _file_chunks(filelike, size: int):
    read = sync_to_async(filelike.read, thread_sensitive=False)
    while chunk := await read(size):
        yield chunk


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise (static files), streaming a file to an ASGI server (uvicorn, daphne) chunk by
    chunk from a worker thread. Django otherwise reads a file response's synchronous iterator
    whole into memory there, and warns at every request."""

    def __call__(self, request):
        response = super().__call__(request)
        filelike = getattr(response, "file_to_stream", None)
        if filelike is not None and isinstance(request, ASGIRequest):
            response.streaming_content = _file_chunks(filelike, response.block_size)
        return response
