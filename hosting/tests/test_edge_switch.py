"""A switch of a live deployment reaches the edge as one symlink swap: no full sync, no reload.

A rollback (a new deployment of an earlier manifest) is served from the tree of the same
manifest until the full sync builds its own; the swap is taken only when the rendered config
would not change. The watcher
wakes on the change feed's push, and its periodic sync still repairs a switch it never heard of.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.services import deployment_publish, deployment_rollback
from deployments.tests.factories import files, make_site
from hosting.hostnames import DEPLOYMENT_ID_LENGTH
from hosting.serving.edge import edge_config_path, edge_switch, edge_sync
from hosting.tests.serving_support import stop
from hosting.tests.test_edge import edge  # noqa: F401 - the fixture
from hosting.tests.test_edge_watch import wait_for
from hosting.tests.test_serving_processes import ROOT, shared_environment

pytestmark = pytest.mark.django_db(transaction=True)


def workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def test_a_rollback_is_served_by_a_symlink_swap_without_sync_or_reload(edge, alice, settings):  # noqa: F811
    site = make_site(alice, slug="instant")
    first = deployment_publish(
        site=site, files=files({"index.html": b"one", "a/b.css": b"x{}"}), source="upload"
    )
    second = deployment_publish(site=site, files=files({"index.html": b"two"}), source="upload")
    edge_sync()
    nginx = edge()
    assert nginx.get("instant.localhost", "/").body == b"two"
    config = edge_config_path().read_text()
    before = workers(nginx.proc.pid)

    restored = deployment_rollback(deployment=first)
    assert edge_switch(site.pk)
    assert nginx.get("instant.localhost", "/").body == b"one"
    assert nginx.get("instant.localhost", "/a/b.css").body == b"x{}"
    # Served from the tree of the same files (the first deployment's) until the full sync
    # builds the restored deployment's own.
    root, link = Path(settings.EDGE_ROOT), Path(settings.EDGE_ROOT) / "live" / str(site.pk)
    assert os.readlink(link) == f"../sites/{first.pk}"
    # No reload (the same nginx workers), the config untouched, and no full sync ran: the
    # restored deployment's own address is not linked yet.
    assert workers(nginx.proc.pid) == before
    assert edge_config_path().read_text() == config
    own = f"{restored.pk.hex[:DEPLOYMENT_ID_LENGTH]}--instant"
    assert not (root / "live" / own).exists()
    assert not edge_switch(site.pk)  # nothing left to switch
    assert edge_sync().trees_built == 1  # the restored deployment's own, linked from the first
    assert os.readlink(link) == f"../sites/{restored.pk}"
    tree = root / "sites" / str(restored.pk)
    assert (tree / "a" / "b.css").samefile(root / "sites" / str(first.pk) / "a" / "b.css")
    assert nginx.get("instant.localhost", "/a/b.css").body == b"x{}"
    assert (root / "live" / own).is_symlink()
    assert nginx.get(f"{own}.localhost", "/").body == b"one"

    # Promoting the second again: its tree is there, the swap is the whole change.
    deployment_rollback(deployment=second)
    assert edge_switch(site.pk)
    assert nginx.get("instant.localhost", "/").body == b"two"
    assert workers(nginx.proc.pid) == before


def test_changes_the_config_must_follow_are_left_to_the_full_sync(edge, alice, settings):  # noqa: F811
    site = make_site(alice, slug="ruled")
    plain = deployment_publish(site=site, files=files({"index.html": b"plain"}), source="upload")
    assert not edge_switch(site.pk)  # never served: its server block is not rendered yet
    edge_sync()
    ruled = deployment_publish(
        site=site,
        files=files({"index.html": b"ruled", "_redirects": b"/old /new 301\n"}),
        source="upload",
    )
    live = Path(settings.EDGE_ROOT) / "live" / str(site.pk)
    assert not edge_switch(site.pk)  # other rules: the config changes, nginx reloads
    assert os.readlink(live) == f"../sites/{plain.pk}"
    result = edge_sync()
    assert result.config_changed and os.readlink(live) == f"../sites/{ruled.pk}"

    from hosting.services import site_set_offline

    deployment_rollback(deployment=plain)
    site.refresh_from_db()
    site_set_offline(site=site, offline=True)
    assert not edge_switch(site.pk)  # offline: answered by the config's 503
    assert edge_sync().config_changed and not live.exists()


ROLLBACK = """
import django, sys
django.setup()
from deployments.models import Deployment
from deployments.services import deployment_rollback
deployment_rollback(deployment=Deployment.objects.get(pk=sys.argv[1]))
"""

# A switch whose notification is lost: the pointer changes, nothing is published.
UNANNOUNCED = """
import django, sys
django.setup()
from hosting.models import Site
Site.objects.filter(pk=sys.argv[1]).update(live_deployment_id=sys.argv[2])
"""


@pytest.mark.slow
def test_the_watcher_switches_on_a_push_and_repairs_a_missed_one(edge, alice, tmp_path, redis_url):  # noqa: F811
    site = make_site(alice, slug="pushed")
    first = deployment_publish(site=site, files=files({"index.html": b"one"}), source="upload")
    second = deployment_publish(site=site, files=files({"index.html": b"two"}), source="upload")
    env = shared_environment(tmp_path)
    edge_root = tmp_path / "edge"
    # A long check interval: only a push wakes the watcher before its periodic sync.
    env.update(
        EDGE_ROOT=str(edge_root),
        EDGE_TEST_CONFIG="false",
        EDGE_SYNC_INTERVAL="4",
        SERVING_CHECK_INTERVAL_MS="60000",
        REDIS_URL=redis_url,
    )
    live = edge_root / "live" / str(site.pk)
    watcher = subprocess.Popen(
        [sys.executable, "manage.py", "edge_sync", "--watch", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def run(script: str, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-c", script, *args], cwd=ROOT, env=env, check=True, timeout=120
        )

    try:
        assert wait_for(lambda: live.is_symlink() and str(second.pk) in os.readlink(live))
        run(ROLLBACK, str(first.pk))
        assert wait_for(lambda: str(second.pk) not in os.readlink(live))
        assert (live / "index.html").read_bytes() == b"one"

        # The periodic sync catches what no notification announced.
        run(UNANNOUNCED, str(site.pk), str(second.pk))
        assert wait_for(lambda: os.readlink(live) == f"../sites/{second.pk}")
        assert (live / "index.html").read_bytes() == b"two"
    finally:
        stop(watcher)


def test_with_a_watcher_changes_queue_no_sync_task(edge, alice, settings, monkeypatch):  # noqa: F811
    from controlpanel.celery import app

    settings.EDGE_ENABLED = True
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    site = make_site(alice, slug="watchedonly")
    live = Path(settings.EDGE_ROOT) / "live" / str(site.pk)
    settings.EDGE_WATCHER = True
    deployment_publish(site=site, files=files({"index.html": b"1"}), source="upload")
    assert not live.exists()  # left to edge_sync --watch
    settings.EDGE_WATCHER = False
    second = deployment_publish(site=site, files=files({"index.html": b"2"}), source="upload")
    assert os.readlink(live) == f"../sites/{second.pk}"  # the task ran, after commit
