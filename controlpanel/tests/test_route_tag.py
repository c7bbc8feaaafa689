"""``{% route %}`` (links drawn on every row of a list) gives what ``{% url %}`` gives."""

from __future__ import annotations

import uuid

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch, set_script_prefix

from controlpanel.context_processors import _navigation

IDS = [uuid.UUID("6f1c3a52-90d4-4c2e-bb7e-0d2f5a9c1e33"), uuid.uuid4()]
NAMES = [
    "hosting:site-detail",
    "hosting:site-files",
    "hosting:site-settings",
    "deployments:detail",
]


def render(source: str, **context) -> str:
    return Template("{% load berth %}" + source).render(Context(context))


@pytest.fixture
def prefix():
    yield set_script_prefix
    set_script_prefix("/")


@pytest.mark.parametrize("name", NAMES)
def test_a_route_with_an_id_is_the_url(name, prefix):
    for script_prefix in ("/", "/panel/"):
        prefix(script_prefix)
        for pk in IDS:
            assert render("{% route name pk %}", name=name, pk=pk) == render(
                "{% url name pk %}", name=name, pk=pk
            )
            assert render("{% route name pk %}", name=name, pk=pk).startswith(script_prefix)


def test_a_route_without_arguments_is_the_url(prefix):
    for script_prefix in ("/", "/panel/"):
        prefix(script_prefix)
        for name in ("dashboard", "hosting:site-list", "teams:switch", "account_logout"):
            assert render("{% route name %}", name=name) == render("{% url name %}", name=name)


def test_other_arguments_and_unknown_routes_go_through_reverse():
    assert render("{% route 'settings-tab' 'github' %}") == render(
        "{% url 'settings-tab' 'github' %}"
    )
    pk = IDS[0]
    assert render("{% route 'deployments:detail' pk %}", pk=str(pk)) == f"/deployments/{pk}/"
    with pytest.raises(NoReverseMatch):
        render("{% route 'no-such-page' pk %}", pk=pk)
    with pytest.raises(NoReverseMatch):
        render("{% route 'dashboard' pk %}", pk=pk)


def test_the_navigation_marks_the_section_of_the_page(prefix):
    request = RequestFactory().get("/sites/new/")
    items = {item["label"]: item for item in _navigation(request)}
    assert items["Sites"]["url"] == "/sites/" and items["Sites"]["active"]
    assert not items["Dashboard"]["active"]
    prefix("/panel/")
    assert _navigation(RequestFactory().get("/panel/sites/"))[1]["url"] == "/panel/sites/"
