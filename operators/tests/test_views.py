"""The operators' pages: users with search and status filter, a user's teams and sites, and
suspending from the page (with the same service and audit as the API)."""

from __future__ import annotations

import pytest

from hosting.services import site_create
from teams.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_web(client, operator):
    client.force_login(operator)
    return client


def test_customers_are_refused(web, bob):
    assert web.get("/operations/users/").status_code == 403
    assert web.get(f"/operations/users/{bob.pk}/").status_code == 403
    assert web.post(f"/operations/users/{bob.pk}/suspend").status_code == 403
    bob.refresh_from_db()
    assert bob.is_active


def test_user_list_search_and_filter(ops_web, alice, bob):
    html = ops_web.get("/operations/users/").content.decode()
    assert "alice@example.com" in html and "bob@example.com" in html
    html = ops_web.get("/operations/users/?q=builder").content.decode()
    assert "bob@example.com" in html and "alice@example.com" not in html
    html = ops_web.get("/operations/users/?status=suspended").content.decode()
    assert "No users match" in html


def test_user_page_lists_teams_and_sites_and_suspends(ops_web, operator, alice):
    site = site_create(owner=alice, name="Alpha site")
    html = ops_web.get(f"/operations/users/{alice.pk}/").content.decode()
    assert "Alpha site" in html and site.hostname in html
    assert "Suspend" in html
    response = ops_web.post(f"/operations/users/{alice.pk}/suspend", follow=True)
    alice.refresh_from_db()
    assert not alice.is_active
    assert "is suspended" in response.content.decode()
    assert AuditEvent.objects.filter(team=site.team, action="user.suspend").exists()
    ops_web.post(f"/operations/users/{alice.pk}/unsuspend")
    alice.refresh_from_db()
    assert alice.is_active


def test_sites_page_searches_every_team(ops_web, alice, bob, django_assert_max_num_queries):
    alpha = site_create(owner=alice, name="Alpha site")
    site_create(owner=bob, name="Bobs blog")
    html = ops_web.get("/operations/sites/").content.decode()
    assert "Alpha site" in html and "Bobs blog" in html
    html = ops_web.get("/operations/sites/?q=bob@example").content.decode()
    assert "Bobs blog" in html and "Alpha site" not in html
    html = ops_web.get(f"/operations/sites/?q={alpha.slug}&status=offline").content.decode()
    assert "No sites match" in html
    for n in range(5):
        site_create(owner=bob, name=f"More {n}")
    with django_assert_max_num_queries(12):
        ops_web.get("/operations/sites/")


def test_customers_cannot_see_every_site(web):
    assert web.get("/operations/sites/").status_code == 403
