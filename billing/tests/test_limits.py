"""Each plan limit refused at each of its doors (pages, API, git webhook, build worker), with
402 PLAN_LIMIT_EXCEEDED and {limit, used, plan, upgradeUrl}; a plan change holds at once."""

from __future__ import annotations

import pytest
from django.core import mail

from billing.limits import PlanLimitExceeded, plan_allows
from billing.models import Subscription
from billing.tests.factories import free_plan_limits, team_on_plan
from deployments import builds
from deployments.models import Deployment
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.test_github import deliver, push, signature
from domains.models import Domain
from hosting.models import Site
from hosting.services import site_create
from teams.models import Invitation
from teams.services import acting_team, team_create
from wordpress.tests.conftest import wordpress_env  # noqa: F401  (MariaDB, php-fpm, core)

pytestmark = pytest.mark.django_db


def refusal(response, limit: int, used: int, plan: str = "tiny") -> dict:
    assert response.status_code == 402, response.content
    error = response.json()["error"]
    assert error["code"] == "PLAN_LIMIT_EXCEEDED" and error["statusCode"] == 402
    details = error["details"]
    assert details["limit"] == limit and details["used"] == used and details["plan"] == plan
    assert details["upgradeUrl"].endswith("/billing/")
    return error


# --- sites ----------------------------------------------------------------------------------
def test_sites_limit_in_the_api_every_spelling(api, alice):
    team_on_plan(acting_team(alice), sites=1)
    assert api.post("/api/sites/create", {"name": "One"}, format="json").status_code == 201
    for path in ("/api/sites/create", "/api/sites", "/api/hosting/spaces"):
        error = refusal(api.post(path, {"name": "Two"}, format="json"), limit=1, used=1)
        assert "Tiny plan allows 1" in error["message"]
    assert Site.objects.count() == 1


def test_sites_limit_on_the_page_shows_the_limit_and_upgrade(web, alice):
    team_on_plan(acting_team(alice), sites=1)
    site_create(owner=alice, name="One")
    form = web.get("/sites/new/").text
    assert "1 of 1 sites" in form and 'href="/billing/"' in form  # told before trying
    page = web.post("/sites/new/", {"name": "Two", "slug": "two"})
    assert page.status_code == 422
    assert "The Tiny plan allows 1 (sites); this team uses 1." in page.text
    assert not Site.objects.filter(slug="two").exists()


def test_wordpress_sites_limit(alice):
    team = acting_team(alice)
    team_on_plan(team, wordpress_sites=0)
    with pytest.raises(PlanLimitExceeded) as refused:
        site_create(owner=alice, name="Blog", kind=Site.Kind.WORDPRESS)
    assert refused.value.api_details["limit"] == 0
    site_create(owner=alice, name="Static")  # other sites still fit


@pytest.mark.usefixtures("wordpress_env")
def test_wordpress_sites_limit_in_the_api_and_page(api, web, alice):
    team_on_plan(acting_team(alice), wordpress_sites=0)
    wordpress = {"kind": "wordpress", "adminUser": "admin", "adminPassword": "a-long-secret"}
    response = api.post("/api/sites/create", {"name": "Blog", **wordpress}, format="json")
    refusal(response, limit=0, used=0)
    page = web.post(
        "/sites/new/wordpress/",
        {
            "name": "Blog",
            "slug": "blog",
            "admin_user": "admin",
            "admin_email": "alice@example.com",
            "admin_password": "a-long-secret",
        },
    )
    assert page.status_code == 422
    assert "The Tiny plan allows 0 (wordpress sites)" in page.content.decode()
    assert not Site.objects.filter(kind="wordpress").exists()


# --- custom domains -------------------------------------------------------------------------
def test_custom_domains_limit_in_the_api_and_page(api, web, alice):
    team_on_plan(acting_team(alice), custom_domains=1)
    assert api.post("/api/domains", {"name": "one.example"}, format="json").status_code == 201
    refusal(api.post("/api/domains", {"name": "two.example"}, format="json"), limit=1, used=1)
    page = web.post("/domains/add/", {"name": "three.example", "site": ""})
    assert "The Tiny plan allows 1 (custom domains)" in page.content.decode()
    assert list(Domain.objects.values_list("name", flat=True)) == ["one.example"]


# --- members --------------------------------------------------------------------------------
def test_members_limit_counts_pending_invitations(web, alice):
    team = team_create(owner=alice, name="Agency")
    team_on_plan(team, members=2)
    assert "1 of 2 team members on the Tiny plan" in web.get(f"/teams/{team.pk}/").text
    web.post(f"/teams/{team.pk}/invitations/", {"email": "bob@example.com", "role": "developer"})
    assert Invitation.objects.filter(team=team).count() == 1
    page = web.post(
        f"/teams/{team.pk}/invitations/",
        {"email": "carol@example.com", "role": "viewer"},
        follow=True,
    )
    assert "The Tiny plan allows 2 (team members); this team uses 2." in page.content.decode()
    assert Invitation.objects.filter(team=team).count() == 1
    assert len(mail.outbox) == 1


# --- builds: minutes and concurrency ----------------------------------------------------------
@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path / "site", STATIC_SITE)


def used_minutes(team, minutes: int, *, site=None) -> Deployment:
    from django.utils import timezone

    site = site or site_create(team=team, owner=None, name="Built")
    return Deployment.objects.create(
        site=site,
        source=Deployment.Source.GIT,
        status=Deployment.Status.SUCCESS,
        build_duration=minutes * 60,
        finished_at=timezone.now(),
    )


def test_build_minutes_refuse_a_build_in_the_api(api, alice, repo):
    team = acting_team(alice)
    team_on_plan(team, build_minutes=10)
    used_minutes(team, 10)
    response = api.post("/api/deployments", {"repository": repo.as_uri()}, format="json")
    refusal(response, limit=10, used=10)
    assert not Deployment.objects.filter(status="queued").exists()


def test_build_minutes_refuse_the_git_webhook(client, alice, repo):
    deployment = builds.deployment_create(user=alice, repository=repo.as_uri(), branch="main")
    project = deployment.project
    Deployment.objects.all().delete()
    team_on_plan(project.site.team, build_minutes=5)
    used_minutes(project.site.team, 6, site=project.site)
    body = push(project.clone_url)
    response = deliver(client, body, signature(project.webhook_secret, body))
    refusal(response, limit=5, used=6)
    assert not Deployment.objects.filter(status="queued").exists()


def test_build_minutes_used_up_while_queued_fail_the_build_in_the_worker(alice, repo):
    deployment = builds.deployment_create(user=alice, repository=repo.as_uri())
    team = deployment.site.team
    team_on_plan(team, build_minutes=1)
    used_minutes(team, 1, site=deployment.site)
    assert builds.build_claim(deployment_id=deployment.pk) == "refused"
    deployment.refresh_from_db()
    assert deployment.status == "failed"
    assert "Tiny plan allows 1 min (build minutes per month)" in deployment.error


def test_concurrent_builds_follow_the_plan_and_change_at_once(alice, repo):
    free_plan_limits(concurrent_builds=1)
    first = builds.deployment_create(user=alice, repository=repo.as_uri())
    second = builds.deployment_create(user=alice, repository=repo.as_uri())
    assert builds.build_claim(deployment_id=first.pk) == "claimed"
    assert builds.build_claim(deployment_id=second.pk) == "wait"
    team_on_plan(first.site.team, concurrent_builds=2)  # upgraded: the next look builds
    assert builds.build_claim(deployment_id=second.pk) == "claimed"


# --- plan changes, storage and bandwidth ------------------------------------------------------
def test_a_plan_change_moves_every_sites_storage_and_bandwidth(alice, api):
    team = acting_team(alice)
    site = site_create(owner=alice, name="One")
    assert site.storage_limit == 1024**3  # the free plan's, from SITE_STORAGE_LIMIT_MB
    team_on_plan(team, storage_per_site_mb=50, bandwidth_gb=2)
    site.refresh_from_db()
    assert (site.storage_limit, site.bandwidth_limit) == (50 * 1024**2, 2 * 1024**3)
    body = api.get(f"/api/sites/{site.pk}").json()
    assert body["storage"]["total"] == 50 * 1024**2 and body["plan"] == "tiny"
    assert api.get("/api/auth/session").json()["user"]["plan"] == "tiny"


def test_plan_allows_answers_used_and_limit(alice):
    team = acting_team(alice)
    team_on_plan(team, sites=3)
    site_create(owner=alice, name="One")
    allowance = plan_allows(team, "sites")
    assert (allowance.used, allowance.limit, allowance.allowed) == (1, 3, True)
    assert plan_allows(team, "sites", adding=3).allowed is False
    assert plan_allows(team, "members").limit is None  # unlimited on this plan


def test_a_suspended_team_may_add_nothing(api, alice):
    team = acting_team(alice)
    team_on_plan(team)
    Subscription.objects.filter(team=team).update(status=Subscription.Status.SUSPENDED)
    response = api.post("/api/sites/create", {"name": "One"}, format="json")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "ACCOUNT_SUSPENDED"
    assert api.get("/api/auth/session").json()["user"]["status"] == "suspended"


def test_build_minutes_refuse_deploy_latest_on_the_page(web, alice, repo):
    deployment = builds.deployment_create(user=alice, repository=repo.as_uri())
    project = deployment.project
    team_on_plan(project.site.team, build_minutes=1)
    used_minutes(project.site.team, 1, site=project.site)
    queued = Deployment.objects.filter(status="queued").count()
    page = web.post(f"/projects/{project.pk}/deploy/", follow=True)
    assert page.status_code == 200
    assert "The Tiny plan allows 1 min (build minutes per month)" in page.content.decode()
    assert Deployment.objects.filter(status="queued").count() == queued
