"""``edge_sync --watch`` follows the change feed: a deploy by another process reaches the edge."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.tests.serving_support import stop
from hosting.tests.test_serving_processes import PUBLISH, ROOT, shared_environment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_watch_mode_syncs_when_another_process_deploys(alice, tmp_path):
    site = make_site(alice, slug="watched")
    first = deployment_publish(site=site, files=files({"index.html": b"one"}), source="upload")
    env = shared_environment(tmp_path)
    edge_root = tmp_path / "edge"
    env.update(EDGE_ROOT=str(edge_root), EDGE_TEST_CONFIG="false", EDGE_SYNC_INTERVAL="3600")
    live = edge_root / "live" / str(site.pk)
    watcher = subprocess.Popen(
        [sys.executable, "manage.py", "edge_sync", "--watch", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: live.is_symlink() and str(first.pk) in os.readlink(live))
        subprocess.run(
            [sys.executable, "-c", PUBLISH, "watched", "two"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        assert wait_for(lambda: str(first.pk) not in os.readlink(live))
        assert (live / "index.html").read_bytes() == b"two"
    finally:
        stop(watcher)


def wait_for(condition, timeout=20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
