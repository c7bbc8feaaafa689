"""The ``berth`` command against a live Berth (daphne, and a Celery worker for git builds), run
as a subprocess the way a developer or a CI job runs it."""

from __future__ import annotations

import json
import stat

import httpx
import pytest

from accounts.services import personal_token_create
from conftest import PASSWORD
from deployments.models import Deployment
from deployments.tests.factories import STATIC_SITE, make_repo
from hosting.models import Site

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def served(live, slug: str, path: str = "/") -> str:
    """What the live server answers for one of its sites (by Host header)."""
    answer = httpx.get(
        f"{live.url}{path}", headers={"Host": f"{slug}.localhost:{live.port}"}, timeout=30
    )
    return answer.text


def write_tree(root, tree: dict[str, str]):
    for path, text in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


def test_login_sites_folder_deploys_logs_rollback_and_promote(
    berth, live, alice, tmp_path, settings
):
    # The live server checks passwords with its own hashers (the tests' MD5 is not among them).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    alice.set_password(PASSWORD)
    alice.save(update_fields=["password"])
    # Signing in stores a personal token in the config folder, readable by the user only.
    signed = berth("login", "--email", alice.email, "--password-stdin", "--json", stdin=PASSWORD)
    assert signed.code == 0, signed.stderr
    assert signed.json()["email"] == alice.email
    assert stat.S_IMODE(berth.config_file.stat().st_mode) == 0o600
    assert "token" in berth.config_file.read_text()
    assert berth("whoami").stdout.strip().startswith(alice.email)

    created = berth("sites", "create", "CLI Docs", "--slug", "cli-docs", "--json")
    assert created.code == 0, created.stderr
    assert created.json()["slug"] == "cli-docs"
    listed = berth("sites", "list", "--json")
    assert [site["slug"] for site in listed.json()] == ["cli-docs"]
    assert "cli-docs" in berth("sites", "list").stdout

    # A folder deploy with --wait exits 0; the second uploads only the changed file.
    folder = write_tree(
        tmp_path / "public",
        {"index.html": "<h1>One</h1>", **{f"docs/{i}.html": f"<p>{i}</p>" for i in range(30)}},
    )
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    first = berth("deploy", str(folder), "--site", "cli-docs", "--wait", "--json")
    assert first.code == 0, first.stderr
    first_id = first.json()["id"]
    assert first.json()["status"] == "success"
    assert served(live, "cli-docs") == "<h1>One</h1>"

    (folder / "index.html").write_text("<h1>Two</h1>")
    second = berth("deploy", str(folder), "--site", "cli-docs", "--json")
    assert second.code == 0, second.stderr
    assert second.json()["stats"]["blobsWritten"] == 1
    assert second.json()["files"] == 31  # .git was left out
    assert served(live, "cli-docs") == "<h1>Two</h1>"
    assert "Uploading 1 of" in second.stderr

    # Logs: the tail of the newest deployment of the site, as text and as JSON.
    tail = berth("logs", "--site", "cli-docs", "--tail", "1")
    assert tail.code == 0 and "1 uploaded" in tail.stdout
    logs = berth("logs", second.json()["id"], "--json").json()["logs"]
    assert [line["seq"] for line in logs] == list(range(1, len(logs) + 1))

    # Rollback to the release before the live one; then a draft, promoted.
    rolled = berth("rollback", "--site", "cli-docs", "--json")
    assert rolled.code == 0, rolled.stderr
    assert rolled.json()["restoredFrom"] == first_id
    assert served(live, "cli-docs") == "<h1>One</h1>"

    (folder / "index.html").write_text("<h1>Draft</h1>")
    draft = berth("deploy", str(folder), "--site", "cli-docs", "--draft", "--json").json()
    assert draft["isLive"] is False
    assert served(live, "cli-docs") == "<h1>One</h1>"
    promoted = berth("promote", draft["id"], "--json")
    assert promoted.code == 0, promoted.stderr
    assert served(live, "cli-docs") == "<h1>Draft</h1>"

    deployments = berth("deployments", "--site", "cli-docs", "--json").json()
    assert [d["source"] for d in deployments][:2] == ["rollback", "upload"]
    assert berth("previews", "list", "--site", "cli-docs", "--json").json() == []
    assert berth("domains", "list", "--json").json() == []

    # Errors: a clear message and a non-zero exit; with --json, the error envelope.
    missing = berth("deploy", str(folder), "--site", "no-such-site", "--json")
    assert missing.code == 1 and missing.json()["error"]["code"] == "SITE_NOT_FOUND"
    assert "SITE_NOT_FOUND" in berth("logs", "--site", "no-such-site").stderr

    stored = json.loads(berth.config_file.read_text())["token"]
    assert berth("logout").code == 0
    assert not berth.config_file.exists()
    revoked = berth("sites", "list", "--json", env={"BERTH_TOKEN": stored})
    assert revoked.code == 1 and revoked.json()["error"]["code"] == "UNAUTHORIZED"
    refused = berth("sites", "list")
    assert refused.code != 0 and "berth login" in refused.stderr


def test_git_deploys_wait_for_the_build_and_exit_non_zero_when_it_fails(
    berth, live, live_worker, alice, tmp_path
):
    """A CI job: BERTH_TOKEN instead of a login, ``deploy --wait`` gating on the build."""
    token = personal_token_create(user=alice, name="ci").access
    ci = {"BERTH_TOKEN": token}
    good = make_repo(tmp_path / "good", {**STATIC_SITE, "build.sh": "#!/bin/sh\nseq 1 40\n"})
    ok = berth(
        "deploy",
        "--git",
        str(good),
        "--build-command",
        "./build.sh",
        "--output-dir",
        ".",
        "--wait",
        env=ci,
    )
    assert ok.code == 0, ok.stdout + ok.stderr
    numbers = [line for line in ok.stdout.splitlines() if line.isdigit()]
    assert numbers == [str(i) for i in range(1, 41)]  # the build log, streamed, once each
    assert "succeeded" in ok.stdout
    app = Site.objects.get(project__repository=str(good))
    again = berth("deploy", "--site", app.slug, "--latest", "--wait", "--json", env=ci)
    assert again.code == 0, again.stdout + again.stderr
    assert again.json()["status"] == "success" and again.json()["siteId"] == str(app.pk)

    broken = make_repo(
        tmp_path / "broken",
        {**STATIC_SITE, "build.sh": "#!/bin/sh\necho compiling\necho 'syntax error' >&2\nexit 2\n"},
    )
    failed = berth(
        "deploy",
        "--git",
        str(broken),
        "--build-command",
        "./build.sh",
        "--output-dir",
        "dist",
        "--wait",
        "--json",
        env=ci,
    )
    assert failed.code == 3, failed.stdout + failed.stderr
    detail = failed.json()
    assert detail["status"] == "failed"
    assert "compiling" in failed.stderr  # the log went to stderr, the JSON alone to stdout
    assert Deployment.objects.get(pk=detail["id"]).status == Deployment.Status.FAILED

    site = Site.objects.get(project__repository=str(broken))
    follow = berth("logs", "--site", site.slug, "--follow", env=ci)
    assert follow.code == 0 and "compiling" in follow.stdout


def test_login_asks_for_the_second_factor_when_the_account_has_one(berth, alice, settings):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    alice.set_password(PASSWORD)
    alice.save(update_fields=["password"])
    TOTP.activate(alice, generate_totp_secret())
    RecoveryCodes.activate(alice)
    codes = RecoveryCodes(Authenticator.objects.get(user=alice, type="recovery_codes"))

    wrong = berth(
        "login", "--email", alice.email, "--password-stdin", "--code", "000000", stdin=PASSWORD
    )
    assert wrong.code == 1 and "INVALID_CODE" in wrong.stderr
    assert not berth.config_file.exists()
    code = codes.get_unused_codes()[0]
    signed = berth(
        "login", "--email", alice.email, "--password-stdin", "--code", code, stdin=PASSWORD
    )
    assert signed.code == 0, signed.stderr
    assert berth("sites", "list", "--json").json() == []
