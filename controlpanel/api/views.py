"""Small helpers every API view uses to read its input."""

from __future__ import annotations

from rest_framework import serializers


def validated(serializer_class: type[serializers.Serializer], request, **kwargs) -> dict:
    """Validate ``request.data`` with ``serializer_class`` and return its ``validated_data``.

    Invalid input raises DRF's ValidationError (422 through the envelope handler). The
    serializer is kept on the request so that a service's snake_case field errors come back in
    the names this serializer gives the client (``controlpanel.api.exceptions``).
    """
    serializer = serializer_class(data=request.data, **kwargs)
    request.input_serializer = serializer
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
