"""Prepared reads answer exactly what the queryset they were built from answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Count, F, Q
from django.utils import timezone

from controlpanel.prepared import PreparedAggregate, PreparedQuery
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


TEAM_COUNTS = PreparedAggregate(
    lambda team_id, since: (
        Deployment.objects.filter(site__team_id=team_id),
        {
            "total": Count("pk"),
            "recent": Count("pk", filter=Q(created_at__gte=since)),
            "main": Count("pk", filter=Q(branch="main")),
        },
    )
)


def test_an_aggregate_answers_as_django_for_each_team_and_value(alice, bob):
    now = timezone.now()
    for owner, count in ((alice, 4), (bob, 2)):
        site = make_site(owner, name=f"Site of {owner.name}")
        for n in range(count):
            deployment = Deployment.objects.create(site=site, author=owner, branch="main")
            Deployment.objects.filter(pk=deployment.pk).update(created_at=now - timedelta(days=n))
    for owner, days in ((alice, 2), (bob, 5), (alice, 0), (bob, 1)):
        team = acting_team(owner)
        since = now - timedelta(days=days, hours=1)
        expected = Deployment.objects.filter(site__team=team).aggregate(
            total=Count("pk"),
            recent=Count("pk", filter=Q(created_at__gte=since)),
            main=Count("pk", filter=Q(branch="main")),
        )
        assert TEAM_COUNTS(team.pk, since) == expected


def test_rows_keep_deferred_columns_and_annotations_as_django_does(
    alice, django_assert_num_queries
):
    site = make_site(alice, name="Annotated")
    Deployment.objects.create(site=site, author=alice, branch="main", commit_message="hello")
    prepared = PreparedQuery(
        lambda team_id: (
            Deployment.objects.filter(site__team_id=team_id)
            .select_related("site")
            .defer("commit_message")
            .annotate(site_name=F("site__name"))
        )
    )
    team = acting_team(alice)
    prepared(team.pk).first()  # compiled
    with django_assert_num_queries(1):
        row = prepared(team.pk).first()
        assert row.site_name == "Annotated" and row.site.name == "Annotated"
        assert not row._state.adding and row._state.db == "default"
        assert row.get_deferred_fields() == {"commit_message"}
    with django_assert_num_queries(1):
        assert row.commit_message == "hello"  # loaded on access, as Django defers it
