"""Operators add templates in the admin; a broken one is refused with the reason."""

from __future__ import annotations

import json

import pytest

from editor.models import Template

pytestmark = pytest.mark.django_db


def test_an_operator_adds_a_template_people_can_start_from(client, operator, api):
    client.force_login(operator)
    document = {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {
                                    "type": "text",
                                    "tagName": "h1",
                                    "components": [{"type": "textnode", "content": "Hi"}],
                                }
                            ],
                        }
                    }
                ]
            }
        ]
    }
    form = {
        "slug": "agency",
        "name": "Agency",
        "description": "",
        "category": "Business",
        "position": 10,
        "pages": json.dumps([{"slug": "home", "title": "Agency", "document": document}]),
    }
    answer = client.post("/admin/editor/template/add/", form)
    assert answer.status_code == 302, answer.content[:500]
    template = Template.objects.get(slug="agency")
    assert not template.builtin
    assert "agency" in [t["slug"] for t in api.get("/api/editor/templates").json()["templates"]]

    broken = {
        **form,
        "slug": "broken",
        "pages": json.dumps([{"slug": "home", "title": "X", "document": {"pages": []}}]),
    }
    refused = client.post("/admin/editor/template/add/", broken)
    assert refused.status_code == 200
    assert "Page 1: The document has no page." in refused.content.decode()
    assert not Template.objects.filter(slug="broken").exists()


def test_operators_see_pages_but_change_them_only_through_the_editor(client, operator, alice):
    from editor.services import page_create
    from hosting.services import site_create

    page = page_create(site=site_create(owner=alice, name="Seen", slug="seen"), title="Home")
    client.force_login(operator)
    assert client.get("/admin/editor/page/").status_code == 200
    detail = client.get(f"/admin/editor/page/{page.pk}/change/")
    assert detail.status_code == 200 and 'type="submit" value="Save"' not in detail.content.decode()
