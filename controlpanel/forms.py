"""Helpers the HTML forms of every app share."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
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


def flash_errors(request, exc: ValidationError) -> None:
    """Show each message of a service's ``ValidationError`` on the next page."""
    for message in exc.messages:
        messages.error(request, message)


def act_and_report(
    request,
    action: Callable,
    success: str | Callable,
    *,
    form=None,
    invalid: str | None = None,
    failures: tuple[type[Exception], ...] = (),
) -> bool:
    """A button or small form posted from a page: validate ``form`` (if any), run ``action``
    (given the form's cleaned data, or nothing), and flash how it went for the page the view
    redirects to. ``success`` is a message, or a callable making one from the action's result;
    ``invalid`` replaces the form's first error when the form does not validate; ``failures``
    are other exceptions whose message is meant for the user. Answers whether the action went
    through."""
    if form is not None and not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        messages.error(
            request, invalid or (errors[0] if errors else "Check the form and try again.")
        )
        return False
    try:
        result = action(form.cleaned_data) if form is not None else action()
    except ValidationError as exc:
        flash_errors(request, exc)
        return False
    except failures as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success(result) if callable(success) else success)
    return True
