"""Berth's own backup, restored on an empty machine: a panel with users, a published site and a
site backup is backed up with ``manage.py backup``; ``manage.py restore`` in another process,
pointed at an empty database and an empty var folder, brings it back; the restored panel,
served by daphne, serves the same site, signs the same user in, and still reads its secrets
(the site-backup repository's password) and its site backups."""

from __future__ import annotations

import http.client
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from backups import restic, services
from backups.models import Backup, Repository
from conftest import PASSWORD, make_user
from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.tests.serving_support import free_port, http_get, start_asgi_server, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PAGE = b"<h1>The garden, restored</h1>"
BACKUP_PASSWORD = "correct-horse-panel-backup"


def child_env(var: Path, database_url: str | None) -> dict:
    """A Berth of its own: its var folder (files, site backups, secret key), its database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_"))
        and k not in ("MEDIA_ROOT", "BACKUP_ROOT", "SECRET_KEY", "SECRET_KEY_FILE")
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(
        DJANGO_SETTINGS_MODULE="controlpanel.settings",
        BERTH_READ_DOTENV="0",
        BERTH_VAR_DIR=str(var),
        PANEL_BACKUP_PASSWORD=BACKUP_PASSWORD,
        CACHE_KEY_PREFIX=f"t{uuid.uuid4().hex[:10]}",
        SITES_DOMAIN="localhost",
        ALLOWED_HOSTS="localhost,.localhost,127.0.0.1",
        PYTHONPATH=str(ROOT),
    )
    env.pop("EDGE_ENABLED", None)
    return env


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def post_json(port: int, path: str, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(
            "POST",
            path,
            json.dumps(body),
            {"Host": "localhost:8000", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def assert_restored_panel_serves(env: dict, tmp_path: Path) -> None:
    """The restored panel, under daphne: the same site, the same user signs in."""
    port = free_port()
    server = start_asgi_server("daphne", port, env, ROOT, log=tmp_path / "daphne.log")
    try:
        page = http_get(port, "garden.localhost:8000", "/")
        assert (page.status, page.body) == (200, PAGE)
        status, body = post_json(
            port, "/api/auth/login", {"email": "alice@example.com", "password": PASSWORD}
        )
        assert status == 200, body
        sites = http_get(
            port,
            "localhost:8000",
            "/api/sites",
            {"Authorization": f"Bearer {body['accessToken']}"},
        )
        assert sites.status == 200
        assert [s["slug"] for s in json.loads(sites.body)["sites"]] == ["garden"]
        wrong = post_json(port, "/api/auth/login", {"email": "alice@example.com", "password": "x"})
        assert wrong[0] == 401
    finally:
        stop(server)


READ_REPOSITORY = """
from backups import restic
from backups.models import Repository
repo = Repository.objects.get()
snapshots = restic.snapshots(repo.location, repo.password)
print(json.dumps({"location": repo.location, "snapshots": [s["short_id"] for s in snapshots]}))
"""


def read_repository(env: dict) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", "import django, json; django.setup()\n" + READ_REPOSITORY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def empty_postgres_database():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL round trip runs with DATABASE_URL set (CI)")
    name = f"{connection.settings_dict['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    yield f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_panel_restores_into_an_empty_database_and_folder(
    settings, tmp_path, backup_root, empty_postgres_database
):
    # The password hashed as in production (the tests' fast hasher is not in its list).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    alice = make_user("alice@example.com", "Alice Liddell")
    site = make_site(alice, name="Garden", slug="garden")
    deployment_publish(site=site, files=files({"index.html": PAGE}), source="upload")
    site_backup = Backup.objects.create(site=site)
    site_backup = services.backup_run(backup_id=site_backup.pk)
    assert site_backup.state == Backup.State.SUCCEEDED, site_backup.reason
    repo = Repository.objects.get()

    settings.PANEL_BACKUP_PASSWORD = BACKUP_PASSWORD
    repository = tmp_path / "offsite"
    out = io.StringIO()
    call_command("backup", to=str(repository), stdout=out)
    assert "Checked." in out.getvalue() and "1 users, 1 teams, 1 sites" in out.getvalue()
    out = io.StringIO()
    call_command("backup", to=str(repository), list=True, stdout=out)
    assert len(out.getvalue().strip().splitlines()) == 1

    env = child_env(tmp_path / "new-machine", empty_postgres_database)
    restored = manage(env, "restore", "--from", str(repository))
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "1 users, 1 teams, 1 sites" in restored.stdout
    assert "1 stored secrets read back" in restored.stdout

    # The site-backup repository came along, moved under the new machine's var folder, and
    # the restored panel opens it with the password it keeps encrypted.
    reopened = read_repository(env)
    assert reopened["location"] == str(
        tmp_path / "new-machine" / "backups" / "repositories" / str(repo.team_id)
    )
    assert reopened["snapshots"] == [site_backup.snapshot_id]
    assert_restored_panel_serves(env, tmp_path)

    # A second restore finds a database that is no longer empty and changes nothing.
    again = manage(env, "restore", "--from", str(repository))
    assert again.returncode != 0 and "already holds" in again.stderr


def test_embedded_sqlite_panel_restores_on_a_new_machine(tmp_path):
    old = child_env(tmp_path / "old-machine", None)
    assert manage(old, "migrate", "-v0").returncode == 0
    made = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, io; django.setup()\n"
            "from conftest import make_user\n"
            "from deployments.services import deployment_publish\n"
            "from hosting.services import site_create\n"
            "alice = make_user('alice@example.com', 'Alice Liddell')\n"
            "site = site_create(owner=alice, name='Garden', slug='garden')\n"
            f"deployment_publish(site=site, files=[('index.html', lambda: io.BytesIO({PAGE!r}))],"
            " source='upload')\n",
        ],
        cwd=ROOT,
        env=old,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    repository = tmp_path / "usb-disk"
    backed_up = manage(old, "backup", "--to", str(repository))
    assert backed_up.returncode == 0, backed_up.stderr[-3000:]

    new = child_env(tmp_path / "new-machine", None)
    restored = manage(new, "restore", "--from", str(repository))
    assert restored.returncode == 0, restored.stderr[-3000:]
    # The embedded default keeps its key in var/: the backup's key is put there.
    assert (tmp_path / "new-machine" / "secret_key").read_text() == (
        tmp_path / "old-machine" / "secret_key"
    ).read_text()
    assert_restored_panel_serves(new, tmp_path)


def test_a_wrong_password_or_a_missing_one_is_refused(settings, tmp_path, alice):
    settings.PANEL_BACKUP_PASSWORD = ""
    with pytest.raises(CommandError, match="Set PANEL_BACKUP_PASSWORD"):
        call_command("backup", to=str(tmp_path / "repo"))
    settings.PANEL_BACKUP_PASSWORD = BACKUP_PASSWORD
    call_command("backup", to=str(tmp_path / "repo"), stdout=io.StringIO())
    settings.PANEL_BACKUP_PASSWORD = "not-the-password"
    with pytest.raises(CommandError, match="wrong password"):
        call_command("restore", source=str(tmp_path / "repo"), list=True)


def test_the_keys_come_out_marked_secret_and_readable_by_the_owner_only(settings, tmp_path, alice):
    settings.PANEL_BACKUP_PASSWORD = BACKUP_PASSWORD
    call_command("backup", to=str(tmp_path / "repo"), stdout=io.StringIO())
    target = tmp_path / "keys.env"
    call_command(
        "restore", source=str(tmp_path / "repo"), secrets_to=str(target), stdout=io.StringIO()
    )
    text = target.read_text()
    assert text.startswith("# SECRET: Berth's encryption keys")
    assert f"SECRET_KEY={settings.SECRET_KEY}" in text or "SECRET_KEY='" in text
    assert target.stat().st_mode & 0o777 == 0o600
    assert restic.snapshots(str(tmp_path / "repo"), BACKUP_PASSWORD, tag="berth-panel")
