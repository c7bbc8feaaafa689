"""One translation of a service's ValidationError: to the API envelope, and onto a form."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError

from controlpanel.api.exceptions import validation_failed
from controlpanel.forms import errors_to_form
from deployments.api.serializers import DeploymentCreateSerializer
from deployments.projects import env_vars_parse

pytestmark = pytest.mark.django_db


def test_services_name_fields_in_snake_case():
    with pytest.raises(ValidationError) as caught:
        env_vars_parse("not a variable")
    assert list(caught.value.message_dict) == ["env_vars"]


def test_the_api_spells_service_fields_as_the_serializer_does():
    exc = ValidationError({"env_vars": ["Line 1: write NAME=value."], "__all__": ["Nope."]})
    failed = validation_failed(exc, DeploymentCreateSerializer(data={}))
    assert failed.status_code == 422 and failed.code == "VALIDATION_ERROR"
    assert failed.details == {
        "envVars": ["Line 1: write NAME=value."],
        "non_field_errors": ["Nope."],
    }
    assert str(failed.detail) == "Line 1: write NAME=value."


def test_an_error_without_fields_is_a_non_field_error():
    failed = validation_failed(ValidationError("The deployment is live."))
    assert failed.details == {"non_field_errors": ["The deployment is live."]}


def test_a_service_error_reaches_the_client_in_its_spelling(api):
    response = api.post(
        "/api/deployments",
        {"repository": "https://example.com/a.git", "envVars": "not a variable"},
        format="json",
    )
    assert response.status_code == 422
    assert list(response.json()["error"]["details"]) == ["envVars"]


class Form(forms.Form):
    name = forms.CharField()
    repository = forms.CharField()


def test_errors_land_on_their_form_fields():
    form = Form({"name": "x", "repository": "y"})
    assert form.is_valid()
    exc = ValidationError({"name": ["Taken."], "slug": ["Bad."], "other": ["Odd."]})
    errors_to_form(form, exc, {"slug": "repository"})
    assert form.errors["name"] == ["Taken."]
    assert form.errors["repository"] == ["Bad."]
    assert form.non_field_errors() == ["Odd."]
    form = Form({"name": "x", "repository": "y"})
    form.is_valid()
    errors_to_form(form, ValidationError("Nothing to publish."))
    assert form.non_field_errors() == ["Nothing to publish."]
