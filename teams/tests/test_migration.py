"""Existing data moves to its owner's personal team when teams arrive (a real migration run)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# The last migration of each app before teams existed.
BEFORE_TEAMS = [
    ("accounts", "0002_notifications"),
    ("hosting", "0001_initial"),
    ("deployments", "0003_projects_builds_logs"),
    ("domains", "0002_record_unique_portable"),
    ("teams", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1]]).apps


@pytest.mark.django_db(transaction=True)
def test_sites_deployments_and_domains_move_to_personal_teams():
    old = _migrate(BEFORE_TEAMS)
    User = old.get_model("accounts", "User")
    Site = old.get_model("hosting", "Site")
    Deployment = old.get_model("deployments", "Deployment")
    Project = old.get_model("deployments", "Project")
    Domain = old.get_model("domains", "Domain")
    DnsRecord = old.get_model("domains", "DnsRecord")
    Certificate = old.get_model("domains", "Certificate")
    AccessToken = old.get_model("accounts", "AccessToken")

    alice = User.objects.create(email="alice@example.com", name="Alice Liddell", password="x")
    bob = User.objects.create(email="bob@example.com", name="", password="x")
    limits = {"storage_limit": 10**9, "bandwidth_limit": 10**10}
    blog = Site.objects.create(owner=alice, name="Blog", slug="blog", **limits)
    shop = Site.objects.create(owner=bob, name="Shop", slug="shop", **limits)
    Deployment.objects.create(site=blog, author=alice, source="upload", status="success")
    Deployment.objects.create(site=shop, author=bob, source="upload", status="failed")
    Project.objects.create(
        owner=bob, site=shop, name="shop", repository="bob/shop", clone_url="https://x/shop.git"
    )
    example = Domain.objects.create(owner=alice, name="example.com", site=blog)
    Domain.objects.create(owner=bob, name="example.com")  # unverified twin, allowed before
    DnsRecord.objects.create(domain=example, name="www", type="CNAME", content="blog.")
    Certificate.objects.create(domain=example, names=["example.com"])
    AccessToken.objects.create(user=alice, kind="personal", prefix="brp_x", access_digest="d1")

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    Team = new.get_model("teams", "Team")
    Membership = new.get_model("teams", "Membership")
    User = new.get_model("accounts", "User")
    alice, bob = (
        User.objects.get(email="alice@example.com"),
        User.objects.get(email="bob@example.com"),
    )
    alice_team = Team.objects.get(personal=True, memberships__user=alice)
    bob_team = Team.objects.get(personal=True, memberships__user=bob)
    assert alice_team.name == "Alice Liddell's team"
    assert bob_team.name == "bob's team"  # no name: the address's local part
    assert Membership.objects.get(team=alice_team).role == "owner"
    assert alice.current_team_id == alice_team.pk and bob.current_team_id == bob_team.pk

    Site = new.get_model("hosting", "Site")
    assert Site.objects.get(slug="blog").team_id == alice_team.pk
    assert Site.objects.get(slug="shop").team_id == bob_team.pk
    Deployment = new.get_model("deployments", "Deployment")
    assert set(
        Deployment.objects.filter(site__team=alice_team).values_list("site__slug", flat=True)
    ) == {"blog"}
    assert new.get_model("deployments", "Project").objects.get().team_id == bob_team.pk
    Domain = new.get_model("domains", "Domain")
    assert Domain.objects.get(owner=alice).team_id == alice_team.pk
    assert Domain.objects.get(owner=bob).team_id == bob_team.pk
    assert new.get_model("domains", "DnsRecord").objects.get().domain.team_id == alice_team.pk
    # Personal API tokens keep acting in whatever team their user chooses.
    assert new.get_model("accounts", "AccessToken").objects.get().team_id is None
    # The creator is still recorded.
    assert Site.objects.get(slug="blog").owner_id == alice.pk
