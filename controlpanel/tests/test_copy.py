"""What pages say when there is nothing yet: no made-up figures, a way to start."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_dashboard_without_deployments_shows_no_success_rate_and_offers_a_first_deploy(web):
    page = web.get("/dashboard/").content.decode()
    assert "0%" not in page
    assert 'data-stat="successRate">—<' in page and "No deployments yet" in page
    assert "data-first-deploy" in page and "Put your first site online" in page


def test_the_dashboard_with_deployments_shows_the_rate_and_no_first_deploy_call(web, alice):
    from deployments.tests.test_views import git_deployment

    git_deployment(alice, status="success")
    page = web.get("/dashboard/").content.decode()
    assert 'data-stat="successRate">100%<' in page
    assert "data-first-deploy" not in page


def test_the_deployments_page_promises_only_what_exists(web):
    page = web.get("/deployments/").content.decode()
    assert "editor" not in page.lower()


def test_a_site_never_deployed_says_so_instead_of_provisioning(web, alice):
    from hosting.services import site_create

    site = site_create(owner=alice, name="Fresh", slug="fresh")
    for url in ("/sites/", f"/sites/{site.pk}/", f"/sites/{site.pk}/settings/"):
        page = web.get(url).content.decode()
        assert "No deployment yet" in page, url
        assert "Provisioning" not in page, url


def test_the_dashboard_names_the_github_account_and_the_newest_security_events(web, alice):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import SecurityEvent
    from deployments.models import GitHubConnection

    GitHubConnection.objects.create(user=alice, github_username="alice-gh", access_token="t")
    alice.security_events.all().delete()
    now = timezone.now()
    for minutes, kind in enumerate(["sign_in", "sign_up", "sign_in_failed"] * 3):
        SecurityEvent.objects.create(
            user=alice, kind=kind, created_at=now - timedelta(minutes=10 * minutes)
        )
    page = web.get("/dashboard/").content.decode()
    assert "GitHub: alice-gh" in page and "data-github-banner" not in page
    activity = page.split("Security activity", 1)[1]
    assert activity.count("<tr>") == 5
    shown = [activity.index(label) for label in ("Signed in", "Account created", "Failed sign-in")]
    assert shown == sorted(shown)  # newest first
