"""Prepared reads answer exactly what the queryset they were built from answers."""

from __future__ import annotations

import pytest

from controlpanel.prepared import PreparedQuery
from deployments.models import Deployment
from deployments.tests.factories import make_site
from teams.services import acting_team

pytestmark = pytest.mark.django_db

TEAM_DEPLOYMENTS = PreparedQuery(
    lambda team_id: (
        Deployment.objects.filter(site__team_id=team_id)
        .select_related("site", "author")
        .order_by("-created_at", "id")
    )
)


def test_counts_slices_and_rows_match_the_queryset_for_each_team(alice, bob):
    for owner, count in ((alice, 7), (bob, 3)):
        site = make_site(owner, name=f"Site of {owner.name}")
        for n in range(count):
            Deployment.objects.create(site=site, author=owner, branch=f"b{n}")
    for owner in (alice, bob, alice):
        team = acting_team(owner)
        expected = list(
            Deployment.objects.filter(site__team=team)
            .select_related("site", "author")
            .order_by("-created_at", "id")
        )
        rows = TEAM_DEPLOYMENTS(team.pk)
        assert rows.count() == len(expected)
        assert rows[2:5] == expected[2:5]
        assert rows[5:100] == expected[5:]
        assert rows.first() == expected[0]
        assert list(rows) == expected
        # Related rows come with them, as select_related gives them.
        assert [d.site.name for d in rows] == [d.site.name for d in expected]
        assert all(d.author.email == owner.email for d in rows)


def test_an_argument_that_does_not_reach_the_sql_is_refused(alice):
    team = acting_team(alice)
    prepared = PreparedQuery(lambda name: Deployment.objects.filter(branch__icontains=name))
    with pytest.raises(ValueError, match="do not reach its SQL"):
        prepared("main").count()
    assert TEAM_DEPLOYMENTS(team.pk).count() == 0
