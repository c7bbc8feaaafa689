"""Backups as jobs with a real Celery worker: "Back up now" shows live progress (files, bytes)
over the WebSocket, a backup whose worker is killed midway is failed by the reaper with a
clear reason (never left "running"), and a failed scheduled backup emails the team."""

from __future__ import annotations

import asyncio
import io
import os
import threading

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.db import connection, transaction
from django.db.models import Q

from backups import services
from backups.models import Backup
from backups.routing import websocket_urlpatterns
from backups.tests.conftest import site_with_files
from deployments.tests.conftest import wait_for
from hosting.files.backends import tree_for

pytestmark = [pytest.mark.services, pytest.mark.slow]


def big_site(owner, *, megabytes: int = 8, files: int = 40):
    site = site_with_files(owner, name="Big")
    tree = tree_for(site.pk)
    for i in range(files):
        tree.save(f"pages/page-{i}.html", io.BytesIO(f"<p>{i}</p>".encode() * 50))
    tree.save("media/video.bin", io.BytesIO(os.urandom(megabytes * 1024 * 1024)))
    return site


def communicator(backup, user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/api/backups/{backup.pk}/stream"
    )
    comm.scope["user"] = user
    return comm


def test_back_up_now_streams_progress_then_the_end(backup_worker, alice):
    site = big_site(alice)
    backup = services.backup_create(site=site, user=alice)
    counted = Q(progress_files__gt=0) | Q(total_bytes__gt=0)
    wait_for(
        lambda: Backup.objects.filter(counted, pk=backup.pk, state="running").exists(),
        timeout=60,
        interval=0.05,
    )

    # Holding the row still (its next progress write waits) pins the backup mid-way, so the
    # page is seen to show a running backup's progress whatever the machine's speed.
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Backup.objects.select_for_update().get(pk=backup.pk)
                locked.set()
                release.wait(60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(30)

    async def scenario():
        comm = communicator(backup, alice)
        connected, _ = await comm.connect()
        assert connected
        first = await comm.receive_json_from(timeout=10)
        release.set()
        events = [first]
        while events[-1]["type"] != "backup_complete":
            events.append(await comm.receive_json_from(timeout=120))
        closed = await comm.receive_output(timeout=10)  # the server closes after the end
        return events, closed

    try:
        events, closed = asyncio.run(scenario())
    finally:
        release.set()
        holder.join()
    event = events[0]
    assert event["type"] == "progress" and event["state"] == "running"
    assert event["phase"] in ("staging", "uploading", "checking")
    assert event["filesDone"] > 0 or event["totalBytes"] > 0
    assert event["phaseLabel"]
    assert closed["type"] == "websocket.close"
    done = events[-1]
    assert done["state"] == "succeeded", done["reason"]
    assert done["files"] == 3 + 40 + 1 + 2 and done["size"] > 8 * 1024 * 1024
    progress = [e for e in events if e["type"] == "progress"]
    assert progress[-1]["state"] == "succeeded"


def test_only_the_team_may_follow_a_backup(db, alice, bob):
    site = site_with_files(alice)
    backup = Backup.objects.create(site=site)

    async def scenario():
        for user, code in ((bob, 4404), (AnonymousUser(), 4401)):
            comm = communicator(backup, user)
            connected, close_code = await comm.connect()
            assert not connected and close_code == code

    asyncio.run(scenario())


def test_a_scheduled_backup_killed_midway_is_reaped_failed_and_alerts_the_team(
    backup_worker, alice
):
    site = big_site(alice, megabytes=40)
    backup = services.backup_create(site=site, type=Backup.Type.SCHEDULED)
    wait_for(lambda: Backup.objects.filter(pk=backup.pk).exclude(phase="").exists(), timeout=60)
    backup_worker.kill()
    backup.refresh_from_db()
    assert backup.state == Backup.State.RUNNING  # the dead worker said nothing more

    assert services.jobs_reap(stale_after=30) == 0  # a live-looking heartbeat is left alone
    assert services.jobs_reap(stale_after=0) == 1
    backup.refresh_from_db()
    assert backup.state == Backup.State.FAILED
    assert "stopped responding" in backup.reason and "back up again" in backup.reason
    assert backup.finished_at and backup.snapshot_id == ""

    (sent,) = mail.outbox
    assert sent.to == ["alice@example.com"]
    assert "scheduled backup of Big failed" in sent.subject
    assert "stopped responding" in sent.body
    assert services.jobs_reap(stale_after=0) == 0 and len(mail.outbox) == 1  # once
    # a late copy of the task finds the job finished and leaves it so
    assert services.backup_run(backup_id=backup.pk) is None


def test_a_failed_scheduled_backup_shows_on_the_sites_page(db, alice, web):
    site = site_with_files(alice)
    repo = services.repository_for(site.team)
    backup = Backup.objects.create(site=site, type=Backup.Type.SCHEDULED)
    repo.location = "/nonexistent/berth-repository"  # restic cannot open it: the run fails
    repo.initialized_at = repo.created_at
    repo.save()
    done = services.backup_run(backup_id=backup.pk)
    assert done.state == Backup.State.FAILED
    assert len(mail.outbox) == 1 and "failed" in mail.outbox[0].subject

    for url in (f"/sites/{site.pk}/", f"/sites/{site.pk}/backups/"):
        html = web.get(url).content.decode()
        assert "data-backup-alert" in html and "scheduled backup" in html, url

    manual = services.backup_run(backup_id=Backup.objects.create(site=site).pk)
    assert manual.state == Backup.State.FAILED
    assert len(mail.outbox) == 1  # a manual backup's failure is seen by whoever asked
