"""GitHub: the real client (requests) against recorded responses served on loopback, the
OAuth token kept encrypted, connect/disconnect, and signed push webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.db import connection

from deployments.models import Deployment, GitHubConnection
from deployments.tests.factories import STATIC_SITE, make_repo

pytestmark = pytest.mark.django_db

TOKEN = "gho_recordedTOKEN123"


def recorded(base: str, clone_url: str) -> dict:
    """Responses as GitHub's REST API gives them (trimmed to the fields Berth reads)."""
    repo = {
        "id": 1296269,
        "name": "my-awesome-app",
        "full_name": "octocat/my-awesome-app",
        "private": False,
        "description": "An app",
        "default_branch": "main",
        "clone_url": clone_url,
        "html_url": "https://github.com/octocat/my-awesome-app",
        "pushed_at": "2025-01-20T10:30:00Z",
    }
    other = {**repo, "id": 2, "name": "docs", "full_name": "octocat/docs", "private": True}
    return {
        "/user": (200, {"login": "octocat", "id": 583231}, {}),
        "/user/repos?page=1": (
            200,
            [repo],
            {"Link": f'<{base}/user/repos?page=2>; rel="next"'},
        ),
        "/user/repos?page=2": (200, [other], {}),
        "/repos/octocat/my-awesome-app/branches": (
            200,
            [
                {"name": "main", "commit": {"sha": "a" * 40}, "protected": True},
                {"name": "feature/x", "commit": {"sha": "b" * 40}, "protected": False},
            ],
            {},
        ),
    }


class FakeGitHub:
    """A loopback HTTP server answering recorded GitHub responses; it records the requests."""

    def __init__(self, clone_url: str = "https://github.com/octocat/my-awesome-app.git"):
        self.requests: list[tuple[str, str]] = []
        self.posted: list[tuple[str, dict]] = []
        self.token = TOKEN
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                fake.requests.append((self.path, self.headers.get("Authorization", "")))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(401, {"message": "Bad credentials"}, {})
                fake.posted.append((self.path, body))
                self._send(201, {"id": len(fake.posted), **body}, {})

            def do_GET(self):
                fake.requests.append((self.path, self.headers.get("Authorization", "")))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(401, {"message": "Bad credentials"}, {})
                path = self.path
                if path.startswith("/user/repos"):
                    path = "/user/repos?page=2" if "page=2" in path else "/user/repos?page=1"
                else:
                    path = path.split("?")[0]
                status, body, headers = fake.routes.get(path, (404, {"message": "Not Found"}, {}))
                self._send(status, body, headers)

            def _send(self, status, body, headers):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.routes = recorded(self.url, clone_url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github(settings):
    fake = FakeGitHub()
    settings.GITHUB_API_URL = fake.url
    yield fake
    fake.close()


@pytest.fixture
def connected(alice):
    return GitHubConnection.objects.create(
        user=alice, github_id="583231", github_username="octocat", access_token=TOKEN
    )


@pytest.fixture
def oauth_app(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {
            "APPS": [{"client_id": "Iv1.testclient", "secret": "s"}],
            "SCOPE": ["read:user", "user:email", "repo"],
        }
    }


def test_repos_are_listed_across_pages_and_cached(api, github, connected):
    body = api.get("/api/github/repos").json()
    assert [r["fullName"] for r in body["repos"]] == ["octocat/my-awesome-app", "octocat/docs"]
    assert body["repos"][0] == {
        "id": "1296269",
        "name": "my-awesome-app",
        "fullName": "octocat/my-awesome-app",
        "private": False,
        "defaultBranch": "main",
        "description": "An app",
        "cloneUrl": "https://github.com/octocat/my-awesome-app.git",
        "htmlUrl": "https://github.com/octocat/my-awesome-app",
        "updatedAt": "2025-01-20T10:30:00Z",
    }
    assert all(auth == f"Bearer {TOKEN}" for _, auth in github.requests)
    asked = len(github.requests)
    api.get("/api/github/repos")
    assert len(github.requests) == asked  # five minutes in the cache


def test_branches_of_a_repository(api, github, connected):
    body = api.get("/api/github/repos/my-awesome-app/branches").json()
    assert body["defaultBranch"] == "main"
    assert body["branches"] == [
        {"name": "main", "commit": "a" * 40, "protected": True},
        {"name": "feature/x", "commit": "b" * 40, "protected": False},
    ]
    assert api.get("/api/github/repos/octocat/my-awesome-app/branches").status_code == 200
    missing = api.get("/api/github/repos/nope/branches")
    assert missing.status_code == 404


def test_not_connected_and_refused_tokens(api, github, alice):
    response = api.get("/api/github/repos")
    assert (
        response.status_code == 409 and response.json()["error"]["code"] == "GITHUB_NOT_CONNECTED"
    )
    GitHubConnection.objects.create(user=alice, access_token="revoked")
    response = api.get("/api/github/repos")
    assert (
        response.status_code == 409 and response.json()["error"]["code"] == "GITHUB_TOKEN_INVALID"
    )


def test_deploying_a_github_repository_by_name(api, alice, tmp_path, settings):
    repo = make_repo(tmp_path / "my-awesome-app", STATIC_SITE)
    fake = FakeGitHub(clone_url=repo.as_uri())
    settings.GITHUB_API_URL = fake.url
    GitHubConnection.objects.create(user=alice, access_token=TOKEN)
    try:
        response = api.post("/api/deployments", {"repository": "my-awesome-app"}, format="json")
    finally:
        fake.close()
    assert response.status_code == 201
    project = Deployment.objects.get(pk=response.json()["id"]).project
    assert project.repository == "octocat/my-awesome-app" and project.github_repo_id == "1296269"
    assert project.clone_url == repo.as_uri() and project.branch == "main"


def test_oauth_token_is_kept_encrypted_and_out_of_allauth(alice):
    app = SocialApp.objects.create(provider="github", name="GitHub", client_id="c", secret="s")
    account = SocialAccount.objects.create(
        user=alice, provider="github", uid="583231", extra_data={"login": "octocat"}
    )
    SocialToken.objects.create(app=app, account=account, token=TOKEN, token_secret="")
    stored = GitHubConnection.objects.get(user=alice)
    assert stored.access_token == TOKEN and stored.github_username == "octocat"
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM deployments_githubconnection")
        raw = cursor.fetchone()[0]
        cursor.execute("SELECT token FROM socialaccount_socialtoken")
        allauth_copy = cursor.fetchone()[0]
    assert TOKEN not in raw and allauth_copy == ""


def test_connection_status_connect_and_disconnect(api, web, alice, connected, oauth_app):
    status = api.get("/api/github/connection").json()
    assert status["connected"] is True and status["username"] == "octocat"
    assert api.get("/api/github/connection-status").json()["connected"] is True
    # A browser session gets GitHub's authorize URL; a token client the panel page.
    browser = web.post("/api/github/connect", {}, content_type="application/json").json()
    assert browser["authorizeUrl"].startswith("https://github.com/login/oauth/authorize?")
    assert (
        "client_id=Iv1.testclient" in browser["authorizeUrl"]
        and "state=" in browser["authorizeUrl"]
    )
    assert (
        api.post("/api/github/connect")
        .json()["authorizeUrl"]
        .endswith("/github/connect/?next=/deploy/")
    )
    account = SocialAccount.objects.create(user=alice, provider="github", uid="583231")
    response = api.delete("/api/github/disconnect")
    assert response.status_code == 200 and response.json()["connected"] is False
    assert not GitHubConnection.objects.exists()
    assert not SocialAccount.objects.filter(pk=account.pk).exists()  # alice has a password


def test_connect_without_configuration(api, caplog):
    """A server without GitHub keys is a setup choice, not a failure: 409, nothing logged as an
    error (a 503 was logged as an ERROR on every click)."""
    with caplog.at_level("WARNING"):
        response = api.post("/api/github/connect")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "GITHUB_NOT_CONFIGURED"
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []


def test_connect_page_starts_oauth_on_post_only(web, oauth_app):
    assert web.get("/github/connect/?next=/deploy/").status_code == 200
    response = web.post("/github/connect/", {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url.startswith("https://github.com/login/oauth/authorize?")


# --- webhooks -----------------------------------------------------------------------------


def push(repo_url: str, branch: str = "main", full_name: str = "octocat/site") -> bytes:
    return json.dumps(
        {
            "ref": f"refs/heads/{branch}",
            "after": "c" * 40,
            "repository": {"full_name": full_name, "clone_url": repo_url},
            "pusher": {"name": "octocat"},
        }
    ).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, body: bytes, sig: str | None, event: str = "push"):
    headers = {"HTTP_X_GITHUB_EVENT": event}
    if sig is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = sig
    return client.post("/api/github/webhook", body, content_type="application/json", **headers)


@pytest.fixture
def project(alice, tmp_path):
    from deployments import builds

    repo = make_repo(tmp_path / "site", STATIC_SITE)
    deployment = builds.deployment_create(user=alice, repository=repo.as_uri(), branch="main")
    Deployment.objects.all().delete()
    return deployment.project


def test_signed_push_to_the_branch_queues_a_build(client, project):
    body = push(project.clone_url)
    response = deliver(client, body, signature(project.webhook_secret, body))
    assert response.status_code == 202
    deployment = Deployment.objects.get()
    assert response.json()["deployments"] == [str(deployment.pk)]
    assert deployment.project == project and deployment.branch == "main"
    assert deployment.status == "queued"


@pytest.mark.parametrize("sig", [None, "sha256=" + "0" * 64, "sha1=abc", "garbage"])
def test_missing_or_wrong_signature_is_refused_and_does_nothing(client, project, sig):
    response = deliver(client, push(project.clone_url), sig)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert not Deployment.objects.exists()


def test_signature_of_another_body_is_refused(client, project):
    sig = signature(project.webhook_secret, push(project.clone_url, branch="other"))
    assert deliver(client, push(project.clone_url), sig).status_code == 401
    assert not Deployment.objects.exists()


def test_ping_other_branches_and_disabled_auto_deploy(client, project):
    ping = json.dumps({"zen": "Keep it simple.", "repository": {"clone_url": project.clone_url}})
    response = deliver(
        client, ping.encode(), signature(project.webhook_secret, ping.encode()), "ping"
    )
    assert response.status_code == 200 and response.json()["message"] == "pong"
    body = push(project.clone_url, branch="feature")
    assert deliver(client, body, signature(project.webhook_secret, body)).status_code == 200
    project.auto_deploy = False
    project.save()
    body = push(project.clone_url)
    assert deliver(client, body, signature(project.webhook_secret, body)).status_code == 200
    assert not Deployment.objects.exists()


def test_global_webhook_secret(client, project, settings):
    settings.GITHUB_WEBHOOK_SECRET = "org-wide-secret"
    body = push(project.clone_url)
    assert deliver(client, body, signature("org-wide-secret", body)).status_code == 202
    assert Deployment.objects.count() == 1
