"""Helpers the HTML forms of every app share."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def errors_to_form(form, exc: ValidationError, field_names: dict[str, str] | None = None) -> None:
    """Put a service's ``ValidationError`` on ``form``: each field's errors under that field
    (``field_names`` renames service fields to the form's), anything else on the form itself."""
    field_names = field_names or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        name = field_names.get(field, field)
        form.add_error(name if name in form.fields else None, errors)
