"""Faults injected for real while builds run: a Redis restart, a dead worker, a database blip.

Each test starts its own Redis or PostgreSQL on a spare port (deployments/tests/faults.py),
or SIGKILLs a real Celery worker, and checks what a user would see: the build finishes or
fails with a reason that names the fault, no line of its log is lost, nothing stays queued.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.tests.factories import free_plan_limits
from deployments.models import Deployment, LogLine
from deployments.tests.conftest import WorkerProcess, wait_for
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.faults import RedisServer, broker_at
from deployments.tests.test_pipeline import final

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


def deploy(user, repo) -> str:
    """Queue a build of ``repo`` as the API does (without its hourly rate limit)."""
    from deployments.services import deployment_create

    return str(
        deployment_create(
            user=user,
            repository=str(repo),
            branch="main",
            build_command="./build.sh",
            output_dir="dist",
        ).pk
    )


def waited(pk) -> bool:
    """The deployment's task reached a worker and found the team's build limit reached."""
    deployment = Deployment.objects.get(pk=pk)
    return deployment.status == "queued" and deployment.heartbeat_at > deployment.created_at


def messages_of(pk) -> list[str]:
    lines = LogLine.objects.filter(deployment_id=pk).order_by("seq")
    return list(lines.values_list("message", flat=True))


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


@pytest.mark.timeout(900)
def test_worker_rides_out_redis_restarts_mid_build(alice, private_redis, settings, tmp_path):
    """Redis (broker, channel layer, cache) killed and restarted while a build runs, five
    times: every build completes with every line, and the same worker takes the next deploy.

    Before controlpanel/broker.py the first restart stopped the worker for good (kombu's
    "'NoneType' object has no attribute 'hostname'") and the next deploy stayed queued."""
    repo = make_repo(tmp_path / "chatty", chatty_site())
    worker = WorkerProcess(tmp_path, settings, {"REDIS_URL": private_redis.url})
    try:
        with broker_at(private_redis.url):
            for _trial in range(REDIS_TRIALS):
                pk = deploy(alice, repo)
                wait_for(lambda pk=pk: len(numbered(pk)) >= 10, timeout=60)
                private_redis.restart(down=1.0)
                deployment = final(pk)
                assert deployment.status == "success", (deployment.error, worker.output()[-3000:])
                assert_whole_log(pk)
                assert worker.proc.poll() is None, worker.output()[-3000:]
            again = final(deploy(alice, repo))
            assert again.status == "success", (again.error, worker.output()[-3000:])
    finally:
        worker.stop()


KILL_TRIALS = 10
FINAL = Deployment.FINAL_STATUSES
STALE = 8  # seconds: the reaper's heartbeat timeout in these tests


@pytest.mark.timeout(900)
def test_killed_worker_leaves_nothing_stuck_and_the_queued_build_builds(
    alice, worker_process, settings, tmp_path
):
    """A worker SIGKILLed mid-build while another deployment of the same team waits queued
    behind it (ten times): the reaper fails the running one with a reason and a note that its
    log may be incomplete, and sends the queued one's lost task again, so it builds."""
    from deployments import builds

    worker_process.stop()
    free_plan_limits(concurrent_builds=1)  # the team's plan: one build at a time
    # The build counts what it printed in its checkout (its sandbox sees nothing else).
    script = (
        '#!/bin/sh\ni=1\nwhile true; do echo "line $i"; echo $i > printed; '
        "i=$((i+1)); sleep 0.01; done\n"
    )
    doomed_repo = make_repo(tmp_path / "doomed", {"build.sh": script})
    queued_repo = make_repo(tmp_path / "waiting", STATIC_SITE)
    worker = WorkerProcess(tmp_path, settings)
    lost_lines, requeued = [], []
    try:
        for _trial in range(KILL_TRIALS):
            doomed = deploy(alice, doomed_repo)
            wait_for(lambda pk=doomed: len(numbered(pk)) >= 20, timeout=60)
            waiting = deploy(alice, queued_repo)
            wait_for(lambda pk=waiting: waited(pk), timeout=30)  # its task is on the worker
            worker.kill()
            printed = Path(settings.BUILD_ROOT) / doomed / "src" / "printed"
            killed_after = int(printed.read_text().strip() or 0)
            worker = WorkerProcess(tmp_path, settings)

            # The reaper, as beat runs it. A queued task re-checks the build limit every 3 s and
            # a build beats every 0.5 s: stale means silent for well over both on a busy machine.
            def reaper(pk=waiting):
                builds.builds_reap(stale_after=STALE)
                requeued.extend(builds.builds_requeue(stale_after=STALE))
                return Deployment.objects.filter(pk=pk, status__in=FINAL).first()

            built = wait_for(reaper, timeout=60, interval=0.5)
            assert built.status == "success", (built.error, messages_of(built.pk), worker.output())
            failed = Deployment.objects.get(pk=doomed)
            assert failed.status == "failed" and failed.error == builds.REAPED
            assert messages_of(doomed)[-2:] == [builds.LOG_INCOMPLETE, builds.REAPED]
            stored = numbered(doomed)
            assert stored == list(range(1, len(stored) + 1))
            lost_lines.append(killed_after - len(stored))
        assert not Deployment.objects.filter(
            status__in=["queued", "building", "deploying"]
        ).exists()
    finally:
        worker.stop()
    # The figure for docs/reliability.md: lines printed but not stored when the worker died.
    print(f"lines lost per killed build: {lost_lines}; tasks sent again: {len(requeued)}")


def test_a_rollback_pins_the_site_against_builds_finishing_around_it(alice):
    """The documented rule, five times with builds completing concurrently: a build never
    replaces a live release newer than itself (a rollback, or a deploy queued after it) unless
    the user promotes it; a deploy made after the rollback goes live."""
    import threading
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from deployments.services import deployment_publish, deployment_rollback
    from deployments.tests.factories import files, make_site
    from hosting.models import Site

    def build(site, queued_at):
        return Deployment.objects.create(
            site=site, source="git", status="deploying", created_at=queued_at, started_at=queued_at
        )

    def complete(deployment, body, results):
        try:
            results[deployment.pk] = deployment_publish(
                site=deployment.site,
                files=files({"index.html": body}),
                source="git",
                deployment=deployment,
            ).went_live
        finally:
            connection.close()

    for trial in range(5):
        site = make_site(alice, name=f"Pinned {trial}")
        first = deployment_publish(site=site, files=files({"index.html": b"v1"}), source="upload")
        now = timezone.now()
        older, newer = build(site, now), build(site, now + timedelta(milliseconds=1))
        rollback = deployment_rollback(deployment=first, author=alice)
        results = {}
        threads = [
            threading.Thread(target=complete, args=(d, f"build {d.pk}".encode(), results))
            for d in ((older, newer) if trial % 2 else (newer, older))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == {older.pk: False, newer.pk: False}
        assert Site.objects.get(pk=site.pk).live_deployment_id == rollback.pk
        assert Deployment.objects.get(pk=older.pk).status == "success"

        # Builds finishing out of order: the later deploy stays live.
        later, earlier = build(site, timezone.now() + timedelta(seconds=1)), build(site, now)
        complete(later, b"later", results)
        complete(earlier, b"earlier", results)
        assert (results[later.pk], results[earlier.pk]) == (True, False)
        assert Site.objects.get(pk=site.pk).live_deployment_id == later.pk
