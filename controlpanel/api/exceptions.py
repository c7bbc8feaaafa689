"""The one error envelope every API answer uses (docs/architecture.md, "API").

``{"error": {"code": "NOT_FOUND", "message": "...", "statusCode": 404, "details": {}}}``
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

# Codes the API clients know, by HTTP status.
STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    402: "PAYMENT_REQUIRED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


NON_FIELD = "non_field_errors"


class ApiError(exceptions.APIException):
    """An error with a domain code, e.g. ``ApiError(404, "DEPLOYMENT_NOT_FOUND", "...")``."""

    def __init__(self, status_code: int, code: str, message: str, details: dict | None = None):
        self.status_code = status_code
        self.code = code
        self.details = details or {}
        super().__init__(detail=message, code=code)


class ValidationFailed(ApiError):
    """422 VALIDATION_ERROR with field errors in ``details``."""

    def __init__(self, message: str = "Request validation failed.", details: dict | None = None):
        super().__init__(422, "VALIDATION_ERROR", message, details)


def error_body(status_code: int, code: str | None, message: str, details=None) -> dict:
    return {
        "error": {
            "code": code or STATUS_CODES.get(status_code, "ERROR"),
            "message": message,
            "statusCode": status_code,
            "details": details or {},
        }
    }


def error_response(status_code: int, code: str | None, message: str, details=None) -> JsonResponse:
    """A plain Django JSON answer in the envelope, for code outside DRF (404/500 handlers)."""
    return JsonResponse(error_body(status_code, code, message, details), status=status_code)


def _flatten(detail):
    """DRF error detail (nested lists/dicts of ErrorDetail) -> plain JSON of strings."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def _first_message(details) -> str:
    if isinstance(details, dict):
        for key, value in details.items():
            msg = _first_message(value)
            if msg:
                return msg if key == "non_field_errors" else f"{key}: {msg}"
    if isinstance(details, list) and details:
        return _first_message(details[0])
    return details if isinstance(details, str) else ""


def api_field_names(serializer) -> dict[str, str]:
    """``{service field: API field}`` as a serializer declares them (``siteId`` has source
    ``site``): services raise snake_case field errors, the client reads its own spelling."""
    if serializer is None:
        return {}
    fields = getattr(serializer, "child", serializer).fields
    return {
        field.source: name
        for name, field in fields.items()
        if field.source and field.source != "*" and field.source != name
    }


def validation_failed(exc: DjangoValidationError, serializer=None) -> ValidationFailed:
    """A service's ``ValidationError`` as 422 VALIDATION_ERROR, fields in the API's spelling.

    ``serializer`` is the one that read the request (``controlpanel.api.views.validated``); its
    fields say how each snake_case name is spelt for the client.
    """
    if hasattr(exc, "error_dict"):
        names = api_field_names(serializer)
        details = {}
        for field, messages in exc.message_dict.items():
            key = NON_FIELD if field == "__all__" else names.get(field, field)
            details.setdefault(key, []).extend(messages)
    else:
        details = {NON_FIELD: exc.messages}
    first = next(iter(details.values()))[0] if details else "Request validation failed."
    return ValidationFailed(first, details)


def envelope_exception_handler(exc, context):
    """DRF ``EXCEPTION_HANDLER``: every error, in every app, in the clients' envelope."""
    if getattr(exc, "api_code", None):
        # A service's refusal that names its own answer (e.g. a plan limit: 402).
        exc = ApiError(exc.api_status, exc.api_code, exc.messages[0], exc.api_details)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        request = context.get("request")
        exc = validation_failed(exc, getattr(request, "input_serializer", None))

    if not isinstance(exc, exceptions.APIException):
        return None  # unexpected: Django's handler500 answers in the envelope

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + (exc.wait % 1 > 0))

    if isinstance(exc, ApiError):
        status_code, code = exc.status_code, exc.code
        message, details = str(exc.detail), exc.details
    elif isinstance(exc, exceptions.ValidationError):
        status_code, code = 422, "VALIDATION_ERROR"
        details = _flatten(exc.detail)
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        message = _first_message(details) or "Request validation failed."
    else:
        status_code = exc.status_code
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            status_code = status.HTTP_401_UNAUTHORIZED
        code = STATUS_CODES.get(status_code)
        message, details = str(exc.detail), {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            details = {"retryAfter": int(headers["Retry-After"])}
            message = f"Too many requests. Try again in {headers['Retry-After']} seconds."

    set_rollback()
    return Response(error_body(status_code, code, message, details), status_code, headers=headers)
