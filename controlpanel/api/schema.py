"""Typed pieces every API operation's schema uses: the error envelope, lists with pagination,
plain messages, and the hook that lists each operation's generic errors.

The schema at ``/api/schema/`` is the contract clients generate code from, so every operation
declares its request and response serializers (never a bare ``dict``) and its error answers.
See docs/api.md, "Declaring an endpoint's schema".
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from controlpanel.api.exceptions import STATUS_CODES

GENERIC_ERRORS = {
    400: "The body is not valid JSON or form data.",
    401: "No valid session or bearer token.",
    402: (
        "PLAN_LIMIT_EXCEEDED (or ACCOUNT_SUSPENDED): the team's plan does not allow this; "
        "`details` holds `limit`, `used`, `plan` and `upgradeUrl`."
    ),
    403: "Signed in, but not allowed (or a browser call without its CSRF token).",
    404: "No such object, or it belongs to someone else.",
    413: "The request body is too large.",
    415: "The body's content type is not accepted.",
    422: "A field or query parameter is not valid; `details` names each field.",
    429: "Too many requests; `details.retryAfter` says when to try again.",
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="UNAUTHORIZED, NOT_FOUND, VALIDATION_ERROR, …")
    message = serializers.CharField()
    statusCode = serializers.IntegerField()
    details = serializers.DictField(
        help_text="Field name -> list of messages for VALIDATION_ERROR; other facts otherwise."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    """Every error answer: ``{"error": {"code", "message", "statusCode", "details"}}``."""

    error = ErrorSerializer()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class PaginationSerializer(serializers.Serializer):
    currentPage = serializers.IntegerField()
    totalPages = serializers.IntegerField()
    totalItems = serializers.IntegerField()
    limit = serializers.IntegerField()


class IsoDateTimeField(serializers.DateTimeField):
    """A timestamp as Python's ``isoformat()`` writes it (``+00:00``), where a client has
    always received that spelling rather than DRF's ``Z``."""

    def to_representation(self, value):
        return value.isoformat() if value else None


def paginated(name: str, key: str, item: type[serializers.Serializer]):
    """The serializer of a paginated list: ``{key: [item, ...], "pagination": {...}}``."""
    page = type(
        name,
        (serializers.Serializer,),
        {key: item(many=True), "pagination": PaginationSerializer(), "__module__": item.__module__},
    )
    return extend_schema_serializer(many=False)(page)


def listing(name: str, key: str, item, **kwargs):
    """The serializer of an unpaginated list wrapped in an object: ``{key: [item, ...]}``."""
    return type(name, (serializers.Serializer,), {key: item(many=True, **kwargs)})


def error(description: str) -> OpenApiResponse:
    """One documented error answer (a domain code such as DEPLOYMENT_NOT_FOUND)."""
    return OpenApiResponse(ErrorEnvelopeSerializer, description=description)


def _needs_auth(operation: dict, default_security: list) -> bool:
    security = operation.get("security", default_security)
    return any(requirement for requirement in security)


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: each operation lists the generic errors it can
    answer with, all in the envelope. Errors an operation declares itself are kept."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        "ErrorEnvelope",
        {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "statusCode": {"type": "integer"},
                        "details": {"type": "object", "additionalProperties": {}},
                    },
                    "required": ["code", "message", "statusCode", "details"],
                }
            },
            "required": ["error"],
        },
    )
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    default_security = result.get("security", [])
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters = operation.get("parameters", [])
            codes = {429}
            if _needs_auth(operation, default_security):
                codes |= {401, 403}
                if method in {"post", "put", "patch"}:
                    codes.add(402)
            if any(p.get("in") == "path" for p in parameters):
                codes.add(404)
            if parameters or "requestBody" in operation:
                codes.add(422)
            if "requestBody" in operation:
                codes |= {400, 413, 415}
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(
                    str(code),
                    {
                        "description": f"{STATUS_CODES[code]}: {GENERIC_ERRORS[code]}",
                        "content": envelope,
                    },
                )
    return result
