"""Build services without a worker: claims, limits, notifications, the reaper, logs, inputs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.services import preferences_update
from billing.tests.factories import free_plan_limits
from deployments import builds, git, logs
from deployments.models import Deployment, LogLine
from deployments.projects import env_vars_parse
from deployments.runner import BuildFailed, output_directory
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.test_views import git_deployment
from hosting.services import site_delete

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(alice, tmp_path):
    repo = make_repo(tmp_path / "q", STATIC_SITE)
    return builds.deployment_create(user=alice, repository=str(repo))


def test_claim_is_taken_once(queued):
    assert builds.build_claim(deployment_id=queued.pk) == "claimed"
    assert builds.build_claim(deployment_id=queued.pk) == "skip"
    queued.refresh_from_db()
    assert queued.status == "building" and queued.started_at and queued.heartbeat_at
    stages = {s.name: s.status for s in queued.stages.all()}
    assert stages == {"queued": "completed", "building": "in_progress"}


def test_plan_concurrent_builds_make_further_builds_wait(alice, bob, tmp_path):
    free_plan_limits(concurrent_builds=1)
    repo = make_repo(tmp_path / "l", STATIC_SITE)
    first = builds.deployment_create(user=alice, repository=str(repo))
    second = builds.deployment_create(user=alice, repository=str(repo))
    theirs = builds.deployment_create(user=bob, repository=str(repo))
    assert builds.build_claim(deployment_id=first.pk) == "claimed"
    assert builds.build_claim(deployment_id=second.pk) == "wait"
    assert builds.build_claim(deployment_id=theirs.pk) == "claimed"  # limits are per team
    builds.build_finish(deployment_id=first.pk, status="failed", error="x")
    assert builds.build_claim(deployment_id=second.pk) == "claimed"


def test_reaper_fails_builds_without_heartbeats(alice):
    stale = git_deployment(alice, status="building", name="stale")
    fresh = git_deployment(alice, status="building", name="fresh")
    Deployment.objects.filter(pk=stale.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    Deployment.objects.filter(pk=fresh.pk).update(heartbeat_at=timezone.now())
    assert builds.builds_reap() == [stale.pk]
    stale.refresh_from_db()
    assert stale.status == "failed" and "stopped responding" in stale.error
    lines = list(LogLine.objects.filter(deployment=stale).values_list("level", "message"))
    assert lines == [("warning", builds.LOG_INCOMPLETE), ("error", builds.REAPED)]
    assert Deployment.objects.get(pk=fresh.pk).status == "building"


def test_reaper_sends_again_a_queued_deployment_whose_task_was_lost(alice, tmp_path):
    """A queued row silent for the heartbeat timeout gets a new task, once; a row whose task
    is waiting for the build limit (it stamps the row) is left alone."""
    repo = make_repo(tmp_path / "q", STATIC_SITE)
    lost = builds.deployment_create(user=alice, repository=str(repo))
    waiting = builds.deployment_create(user=alice, repository=str(repo))
    old = timezone.now() - timedelta(minutes=5)
    Deployment.objects.filter(pk__in=[lost.pk, waiting.pk]).update(heartbeat_at=old)
    Deployment.objects.filter(pk=waiting.pk).update(heartbeat_at=timezone.now())
    assert builds.builds_requeue() == [lost.pk]
    requeued = Deployment.objects.get(pk=lost.pk)
    assert requeued.status == "queued" and requeued.task_id != lost.task_id
    assert builds.builds_requeue() == []  # idempotent: the new task is in flight
    assert Deployment.objects.get(pk=waiting.pk).task_id == waiting.task_id


@pytest.mark.parametrize("ending", ["failed", "cancelled"])
def test_a_site_whose_first_build_fails_says_error_until_a_deploy_succeeds(queued, ending):
    from deployments.services import deployment_publish
    from deployments.tests.factories import files

    site = queued.site
    assert site.status == "provisioning"
    builds.build_claim(deployment_id=queued.pk)
    builds.build_finish(deployment_id=queued.pk, status=ending, error="exit code 1")
    site.refresh_from_db()
    assert site.status == ("error" if ending == "failed" else "provisioning")
    deployment_publish(site=site, files=files({"index.html": b"<h1>ok</h1>"}), source="upload")
    site.refresh_from_db()
    assert site.status == "online"
    # Once something is live, a failed build leaves the site online: the old release serves.
    again = builds.deployment_redeploy(deployment=queued)
    builds.build_claim(deployment_id=again.pk)
    builds.build_finish(deployment_id=again.pk, status="failed", error="exit code 1")
    site.refresh_from_db()
    assert site.status == "online"


@pytest.mark.parametrize(
    "status,prefs,subject",
    [
        ("success", {}, "[Berth] Deployment of app succeeded."),
        ("failed", {}, "[Berth] Deployment of app failed."),
        ("success", {"deploy_success_notifications": False}, None),
        ("failed", {"email_notifications": False}, None),
        ("cancelled", {}, None),
    ],
)
def test_emails_follow_preferences(alice, status, prefs, subject):
    if prefs:
        preferences_update(user=alice, **prefs)
    deployment = git_deployment(alice, status=status)
    deployment.error = "The build failed with exit code 1." if status == "failed" else ""
    deployment.save()
    builds.deployment_notify(deployment_id=deployment.pk)
    if subject is None:
        assert mail.outbox == []
    else:
        assert [m.subject for m in mail.outbox] == [subject]
        assert mail.outbox[0].to == ["alice@example.com"]
        assert str(deployment.pk) in mail.outbox[0].body


def test_finish_sends_a_toast_to_the_owner(alice, django_capture_on_commit_callbacks, settings):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from controlpanel.events import user_group

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(alice.pk), channel)
    deployment = git_deployment(alice, status="building")
    with django_capture_on_commit_callbacks(execute=True):
        builds.build_finish(deployment_id=deployment.pk, status="failed", error="boom")
    message = async_to_sync(layer.receive)(channel)
    assert message["payload"]["message"] == "Deployment of app failed."
    assert message["payload"]["level"] == "error"


@pytest.mark.parametrize(
    "line,stream,level",
    [
        ("Compiled successfully", "stdout", "info"),
        ("npm ERR! code ELIFECYCLE", "stdout", "error"),
        ("Error: Cannot find module 'x'", "stdout", "error"),
        ("warning: deprecated option", "stdout", "warning"),
        ("npm WARN deprecated left-pad", "stderr", "warning"),
        ("Cloning into 'src'...", "stderr", "info"),
        ("fatal: could not read from remote", "stderr", "error"),
        ("build failed", "stderr", "error"),
        ("0 errors found", "stdout", "info"),
    ],
)
def test_levels_are_inferred(line, stream, level):
    assert logs.infer_level(line, stream) == level


def test_writer_masks_secrets_and_caps_lines(alice, settings):
    deployment = git_deployment(alice, status="building")
    secrets = ["hunter22", "ab", "production"]
    writer = logs.LogWriter(deployment.pk, secrets=secrets, max_lines=3)
    for text in ["token hunter22!", "ab stays in production", "x" * 5000, "four", "five"]:
        writer.write(text)
    writer.flush()
    stored = list(LogLine.objects.filter(deployment=deployment).values_list("message", flat=True))
    assert stored[0] == "token ••••••!" and stored[1] == "ab stays in production"
    assert len(stored[2]) < 4100 and stored[2].endswith("…")
    assert stored[3].startswith("The log is longer than 3 lines") and len(stored) == 4


def test_a_deployments_log_lines_go_with_it_and_with_its_site(alice):
    """The database does not tie a line to its deployment (no constraint to check per line of a
    burst): deleting a deployment, or its site, deletes its lines all the same."""
    gone, kept = git_deployment(alice, status="failed"), git_deployment(alice, name="other")
    for deployment in (gone, kept):
        logs.log_append(deployment.pk, "a line")
    builds.deployment_delete(deployment=gone)
    assert not LogLine.objects.filter(deployment_id=gone.pk).exists()
    assert LogLine.objects.filter(deployment_id=kept.pk).count() == 1
    site_delete(site=kept.site)
    assert not LogLine.objects.filter(deployment_id=kept.pk).exists()


def test_env_vars_parse():
    text = '# comment\nexport A=1\nB = "two words"\n\nC=\nD=x=y\n'
    assert env_vars_parse(text) == {"A": "1", "B": "two words", "C": "", "D": "x=y"}
    with pytest.raises(ValidationError):
        env_vars_parse("1BAD=x")
    with pytest.raises(ValidationError):
        env_vars_parse("HOME=/root")


@pytest.mark.parametrize(
    "url",
    [
        "-c core.sshCommand=evil",
        "https://-oProxyCommand=x/repo",
        "ext::sh -c touch% /tmp/pwned",
        "git@github.com:me/x.git",
        "https://exa mple.com/x",
        "file://otherhost/srv/x",
        "http://example.com/x.git",
    ],
)
def test_dangerous_or_unsupported_urls_are_refused(url):
    with pytest.raises(ValidationError):
        git.clone_url_for(url)


def test_local_paths_become_file_urls():
    assert git.clone_url_for("/srv/repos/site") == "file:///srv/repos/site"
    assert git.name_from_url("https://h/team/my-app.git") == "my-app"


@pytest.mark.parametrize("branch", ["-x", "a..b", "a b", "x.lock", "refs/../x", ""])
def test_bad_branches_are_refused(branch):
    with pytest.raises(ValidationError):
        git.validate_branch(branch)


def test_output_directory_checks(tmp_path, settings):
    checkout = tmp_path / "src"
    (checkout / "dist").mkdir(parents=True)
    (checkout / "dist" / "big.bin").write_bytes(b"x" * 2048)
    assert output_directory(checkout, "dist") == (checkout / "dist").resolve()
    for bad, message in (("/etc", "relative"), ("../..", "outside"), ("nope", "does not exist")):
        with pytest.raises(BuildFailed, match=message):
            output_directory(checkout, bad)
    settings.MAX_BUILD_SIZE = 1024
    with pytest.raises(BuildFailed, match="MAX_BUILD_SIZE"):
        output_directory(checkout, "dist")
