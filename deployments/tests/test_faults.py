"""Faults injected for real while builds run: a Redis restart, a dead worker, a database blip.

Each test starts its own Redis or PostgreSQL on a spare port (deployments/tests/faults.py),
or SIGKILLs a real Celery worker, and checks what a user would see: the build finishes or
fails with a reason that names the fault, no line of its log is lost, nothing stays queued.
"""

from __future__ import annotations

import pytest

from deployments.models import LogLine
from deployments.tests.conftest import WorkerProcess, wait_for
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.faults import RedisServer, broker_at
from deployments.tests.test_pipeline import deploy, final

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LINES = 60


def chatty_site(lines: int = LINES, pause: float = 0.05) -> dict:
    """A build printing numbered lines for a few seconds, then publishing a page."""
    script = (
        "#!/bin/sh\nset -e\n"
        f'i=1; while [ $i -le {lines} ]; do echo "line $i"; i=$((i+1)); sleep {pause}; done\n'
        "mkdir -p dist\ncp index.html dist/\n"
    )
    return {**STATIC_SITE, "build.sh": script}


def numbered(pk) -> list[int]:
    messages = LogLine.objects.filter(deployment_id=pk, message__startswith="line ")
    return [int(m.split()[1]) for m in messages.order_by("seq").values_list("message", flat=True)]


def assert_whole_log(pk, lines: int = LINES) -> None:
    seqs = list(
        LogLine.objects.filter(deployment_id=pk).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers have a gap"
    assert numbered(pk) == list(range(1, lines + 1)), "build output lines were lost"


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


REDIS_TRIALS = 5


def test_worker_rides_out_redis_restarts_mid_build(api, private_redis, settings, tmp_path):
    """Redis (broker, channel layer, cache) killed and restarted while a build runs, five
    times: every build completes with every line, and the same worker takes the next deploy.

    Before controlpanel/broker.py the first restart stopped the worker for good (kombu's
    "'NoneType' object has no attribute 'hostname'") and the next deploy stayed queued."""
    repo = make_repo(tmp_path / "chatty", chatty_site())
    worker = WorkerProcess(tmp_path, settings, {"REDIS_URL": private_redis.url})
    try:
        with broker_at(private_redis.url):
            for _trial in range(REDIS_TRIALS):
                pk = deploy(api, repo)["id"]
                wait_for(lambda pk=pk: len(numbered(pk)) >= 10, timeout=60)
                private_redis.restart(down=1.0)
                deployment = final(pk)
                assert deployment.status == "success", (deployment.error, worker.output()[-3000:])
                assert_whole_log(pk)
                assert worker.proc.poll() is None, worker.output()[-3000:]
            again = final(deploy(api, repo)["id"])
            assert again.status == "success", (again.error, worker.output()[-3000:])
    finally:
        worker.stop()
