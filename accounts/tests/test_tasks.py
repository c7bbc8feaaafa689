"""Periodic upkeep: ended browser sessions and old notifications are forgotten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import BrowserSession, Notification
from accounts.tasks import prune_task
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_prune_forgets_ended_sessions_and_old_notifications(alice):
    browser = Client()
    browser.post("/accounts/login/", {"login": "alice@example.com", "password": PASSWORD})
    BrowserSession.objects.create(user=alice, session_key="gone-long-ago")
    old = Notification.objects.create(user=alice, message="old")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    fresh = Notification.objects.create(user=alice, message="fresh")

    assert prune_task() == {"sessions": 1, "notifications": 1}
    assert list(BrowserSession.objects.values_list("user", flat=True)) == [alice.pk]
    assert not Notification.objects.filter(pk=old.pk).exists()
    assert Notification.objects.filter(pk=fresh.pk).exists()
    assert browser.get("/dashboard/").status_code == 200
