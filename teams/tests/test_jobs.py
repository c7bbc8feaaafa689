"""Background work acting for a person asks the permission module when it runs, not only when
it was queued: a developer demoted to viewer (or removed) while a build waits does not get it
built."""

from __future__ import annotations

import pytest

from conftest import bearer_client, make_user
from deployments.models import Deployment, LogLine
from deployments.tasks import build_deployment
from deployments.tests.conftest import _build_settings, wait_for, worker  # noqa: F401 (fixtures)
from deployments.tests.factories import STATIC_SITE, make_repo
from teams.models import AuditEvent, Membership, Role
from teams.permissions import SITE_MANAGE, job_refusal
from teams.services import member_remove, member_role_change, team_create, team_switch

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(alice):
    bob = make_user("bob@example.com", "Bob Builder")
    team = team_create(owner=alice, name="Acme")
    Membership.objects.create(team=team, user=bob, role=Role.DEVELOPER)
    team_switch(user=bob, team=team)
    return team, bob


def _queue_build(bob, repo) -> str:
    """Bob asks for a deploy while no worker runs: it waits, queued."""
    body = {"repository": str(repo), "branch": "main", "buildCommand": "./build.sh"}
    body["outputDir"] = "dist"
    response = bearer_client(bob).post("/api/deployments", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued"
    return response.json()["id"]


def _start_worker(request, pk) -> None:
    """A real Celery worker starts (clearing the broker), then the build's task is delivered."""
    request.getfixturevalue("worker")
    task_id = Deployment.objects.get(pk=pk).task_id
    build_deployment.apply_async(args=[pk], task_id=task_id)


def _finished(pk) -> Deployment:
    return wait_for(
        lambda: Deployment.objects.filter(pk=pk, status__in=Deployment.FINAL_STATUSES).first(),
        timeout=90,
    )


def _log(pk) -> list[str]:
    return list(LogLine.objects.filter(deployment_id=pk).values_list("message", flat=True))


def test_a_build_queued_by_a_developer_demoted_meanwhile_is_not_built(
    request, alice, acme, tmp_path
):
    team, bob = acme
    pk = _queue_build(bob, make_repo(tmp_path / "site", STATIC_SITE))
    member_role_change(
        membership=Membership.objects.get(team=team, user=bob), role=Role.VIEWER, actor=alice
    )
    _start_worker(request, pk)  # only now does a worker pick the build up

    deployment = _finished(pk)
    assert deployment.status == "failed"
    assert "Your role (viewer) does not allow you" in deployment.error
    assert deployment.site.live_deployment_id is None
    lines = _log(pk)
    assert not any(line.startswith("Cloning") for line in lines)
    assert deployment.error in lines
    refused = AuditEvent.objects.get(team=team, action="deployment.refused")
    assert refused.actor == bob and refused.object_id == str(pk)


def test_a_build_queued_by_someone_removed_meanwhile_is_not_built(request, alice, acme, tmp_path):
    team, bob = acme
    pk = _queue_build(bob, make_repo(tmp_path / "site", STATIC_SITE))
    member_remove(membership=Membership.objects.get(team=team, user=bob), actor=alice)
    _start_worker(request, pk)
    deployment = _finished(pk)
    assert deployment.status == "failed"
    assert "no longer a member of the team" in deployment.error


def test_a_build_of_a_developer_still_in_the_role_runs(request, alice, acme, tmp_path):
    team, bob = acme
    pk = _queue_build(bob, make_repo(tmp_path / "site", STATIC_SITE))
    _start_worker(request, pk)
    deployment = _finished(pk)
    assert deployment.status == "success", deployment.error
    assert not AuditEvent.objects.filter(team=team, action="deployment.refused").exists()


def test_a_team_requiring_two_factor_stops_jobs_of_members_without_it(alice, acme):
    team, bob = acme
    assert job_refusal(bob, SITE_MANAGE, team) == ""
    team.require_two_factor = True
    team.save()
    assert "requires two-factor sign-in" in job_refusal(bob, SITE_MANAGE, team)
    assert job_refusal(None, SITE_MANAGE, team) == ""  # the system's own upkeep
