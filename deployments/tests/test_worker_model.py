"""The worker as the embedded default and docker-compose.yml run it: one process, tasks in a
thread pool, beat in a thread. It runs the periodic tasks itself, builds side by side (each
with its own process group, limits and resource record), and leaves nothing running."""

from __future__ import annotations

from datetime import timedelta

import psutil
import pytest
from django.utils import timezone

from deployments import builds
from deployments.models import Deployment
from deployments.tests.conftest import WorkerProcess, wait_for
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.test_pipeline import deploy, final, logs

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_one_worker_process_runs_beat_and_builds_side_by_side(api, alice, tmp_path, settings):
    stale = builds.deployment_create(
        user=alice, repository=str(make_repo(tmp_path / "stale", STATIC_SITE))
    )
    hour_ago = timezone.now() - timedelta(hours=1)
    Deployment.objects.filter(pk=stale.pk).update(
        status=Deployment.Status.BUILDING, started_at=hour_ago, heartbeat_at=hour_ago
    )
    worker = WorkerProcess(tmp_path, settings, {"BUILD_REAPER_INTERVAL": "1"}, beat=True)
    try:
        assert psutil.Process(worker.proc.pid).children(recursive=True) == []  # one process
        # Beat, in a thread of the worker, sends the reaper's task: the dead build is failed.
        reaped = wait_for(
            lambda: Deployment.objects.filter(pk=stale.pk, status="failed").first(), timeout=60
        )
        assert "worker stopped responding" in reaped.error

        # Two builds at once, in two threads of the same process.
        script = "#!/bin/sh\necho building\nsleep 2\nmkdir -p dist && cp index.html dist/\n"
        repos = [make_repo(tmp_path / name, {**STATIC_SITE, "build.sh": script}) for name in "ab"]
        pks = [deploy(api, repo)["id"] for repo in repos]
        wait_for(
            lambda: Deployment.objects.filter(pk__in=pks, status="building").count() == 2,
            timeout=60,
        )
        done = [final(pk) for pk in pks]
        for deployment in done:
            assert deployment.status == "success", (deployment.error, logs(deployment.pk))
            assert deployment.worker.endswith(f":{worker.proc.pid}")
            assert deployment.build_cpu_seconds is not None
        # The builds' processes were reaped and none is left: the worker is alone again.
        assert psutil.Process(worker.proc.pid).children(recursive=True) == []
        assert "beat: Starting" in worker.output()
    finally:
        worker.stop()
    assert worker.proc.returncode == 0, worker.output()[-3000:]
