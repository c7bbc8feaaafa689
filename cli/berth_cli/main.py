"""The ``berth`` command: sites, deploys (a folder or git), logs, rollback, promote, domains and
previews of a Berth panel. ``--json`` on every command prints one JSON document on stdout (logs
go to stderr then); a failed deploy, like any error, exits non-zero."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path

import click

from berth_cli import __version__, config
from berth_cli.api import ApiError, Client, is_uuid
from berth_cli.folder import FolderError, deploy_folder
from berth_cli.stream import follow

# Exit statuses: 1 for an error (refused, unreachable, bad input), 3 for a deploy that ended
# failed or cancelled (so CI can tell "the build broke" from "berth could not run").
EXIT_ERROR = 1
EXIT_DEPLOY_FAILED = 3


class State:
    def __init__(self, url: str, token: str, team: str, as_json: bool):
        self.url = url
        self.token = token
        self.team = team
        self.as_json = as_json
        self._client: Client | None = None

    def client(self) -> Client:
        if not self.url:
            raise click.UsageError("No server: run `berth login --url URL` or set BERTH_URL.")
        if not self.token:
            raise click.UsageError("Not logged in: run `berth login` or set BERTH_TOKEN.")
        if self._client is None:
            self._client = Client(self.url, self.token, self.team)
        return self._client


def emit(state: State, data, text: str | Callable[[], None]) -> None:
    """The answer of a command: JSON with --json, else the human text."""
    if state.as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif callable(text):
        text()
    else:
        click.echo(text)


def note(state: State, message: str) -> None:
    """Progress for people: on stderr, so stdout stays the answer."""
    click.echo(message, err=True)


def command(group=None, name=None, **settings):
    """A berth command: takes --json, gets the State, turns API errors into an exit status."""

    def decorate(func):
        @click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
        @click.pass_obj
        @wraps(func)
        def run(state: State, *args, as_json: bool = False, **kwargs):
            state.as_json = state.as_json or as_json
            try:
                return func(state, *args, **kwargs)
            except ApiError as exc:
                if state.as_json:
                    click.echo(json.dumps(exc.envelope(), indent=2))
                else:
                    click.echo(f"Error: {exc.message} ({exc.code})", err=True)
                sys.exit(EXIT_ERROR)
            except FolderError as exc:
                if state.as_json:
                    envelope = ApiError(0, "FOLDER_INVALID", str(exc)).envelope()
                    click.echo(json.dumps(envelope, indent=2))
                else:
                    click.echo(f"Error: {exc}", err=True)
                sys.exit(EXIT_ERROR)

        return (group or cli).command(name=name, **settings)(run)

    return decorate


@click.group()
@click.version_option(__version__, prog_name="berth")
@click.option("--url", envvar="BERTH_URL", help="The panel's address [env: BERTH_URL].")
@click.option("--token", envvar="BERTH_TOKEN", help="An API token [env: BERTH_TOKEN].")
@click.option("--team", envvar="BERTH_TEAM", default="", help="Act in this team (its id).")
@click.option("--json", "as_json", is_flag=True, help="Print answers as JSON.")
@click.pass_context
def cli(ctx, url, token, team, as_json):
    """Deploy to a Berth panel: sites, folder and git deploys, logs, rollbacks, previews."""
    saved = config.load()
    ctx.obj = State(
        url=(url or saved.url or "").rstrip("/"),
        token=token or saved.token,
        team=team,
        as_json=as_json,
    )


# --- signing in ---------------------------------------------------------------------------------


@command(name="login")
@click.option(
    "--url",
    "login_url",
    help="The panel's address (as `berth --url URL login`; asked when neither is given).",
)
@click.option("--email", help="Your sign-in address (asked when not given).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--code", help="A two-factor code, when your account asks for one.")
@click.option("--with-token", "given_token", help="Store this API token instead of signing in.")
def login(state: State, login_url, email, password_stdin, code, given_token):
    """Sign in and store a personal API token in your config folder (readable by you only)."""
    if login_url:
        state.url = login_url.rstrip("/")
    if not state.url:
        state.url = click.prompt("Panel address (e.g. https://panel.example.com)").rstrip("/")
    if given_token:
        client = Client(state.url, given_token, state.team)
        profile = client.get("/user/profile")
        saved = config.Config(url=state.url, token=given_token, email=_email(profile))
    else:
        email = email or click.prompt("Email")
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True)
        saved = _sign_in(state, email, password, code)
    path = config.save(saved)
    answer = {"url": saved.url, "email": saved.email, "config": str(path)}
    emit(state, answer, f"Logged in to {saved.url} as {saved.email} (token in {path}).")


def _email(profile: dict) -> str:
    user = profile.get("user", profile)
    return str(user.get("email", "")) if isinstance(user, dict) else ""


def _sign_in(state: State, email: str, password: str, code: str | None) -> config.Config:
    """Sign in for a moment, make a personal token named after this machine, sign out."""
    anonymous = Client(state.url)
    try:
        signed_in = anonymous.post("/auth/login", {"email": email, "password": password})
    except ApiError as exc:
        if exc.code != "TWO_FACTOR_REQUIRED":
            raise
        code = code or click.prompt("Two-factor code")
        challenge = exc.details.get("challenge", "")
        signed_in = anonymous.post("/auth/login", {"challenge": challenge, "code": code})
    session = Client(state.url, signed_in["accessToken"])
    name = f"berth CLI on {socket.gethostname()}"[:100]
    created = session.post("/user/tokens", {"name": name})
    with contextlib.suppress(ApiError):  # the short sign-in expires by itself anyway
        session.post("/auth/logout")
    user = signed_in.get("user") or {}
    return config.Config(
        url=state.url,
        token=created["token"],
        token_id=str(created.get("id", "")),
        email=str(user.get("email") or email),
    )


@command(name="logout")
def logout(state: State):
    """Revoke the stored token and forget it."""
    saved = config.load()
    revoked = False
    if saved.token and saved.token_id and saved.url:
        try:
            Client(saved.url, saved.token).delete(f"/user/tokens/{saved.token_id}")
            revoked = True
        except ApiError:
            pass
    forgotten = config.forget()
    emit(
        state,
        {"revoked": revoked, "forgotten": forgotten},
        "Logged out." if forgotten else "Not logged in.",
    )


@command(name="whoami")
def whoami(state: State):
    """Who the token acts for."""
    profile = state.client().get("/user/profile")
    emit(state, profile, f"{_email(profile)} on {state.url}")


# --- sites --------------------------------------------------------------------------------------


@cli.group()
def sites():
    """List and create sites."""


def _site_row(site: dict) -> str:
    live = (site.get("liveDeploymentId") or "-")[:8]
    return f"{site['slug']:<24} {site['status']:<12} {live:<9} {site['url']}"


@command(sites, name="list")
@click.option("--search", default="", help="Part of the name or address.")
def sites_list(state: State, search):
    """Your sites (in the current team)."""
    found = list(state.client().pages("/sites", "sites", search=search))

    def show():
        if not found:
            click.echo("No sites yet: `berth sites create NAME`.")
            return
        click.echo(f"{'SITE':<24} {'STATUS':<12} {'LIVE':<9} URL")
        for site in found:
            click.echo(_site_row(site))

    emit(state, found, show)


@command(sites, name="create")
@click.argument("name")
@click.option("--slug", default="", help="The address: <slug>.<sites domain> (default: from NAME).")
def sites_create(state: State, name, slug):
    """Create a static site."""
    site = state.client().post("/sites", {"name": name, "slug": slug})
    emit(state, site, f"Created {site['name']} at {site['url']} (id {site['id']}).")


# --- deploying ----------------------------------------------------------------------------------


def _wait(state: State, deployment_id: str, timeout: float | None) -> dict:
    """Stream the log until the deployment is final; answers its detail (and exits 3 if it
    failed)."""
    client = state.client()
    echo_line = (
        (lambda line: click.echo(line["message"], err=True))
        if state.as_json
        else (lambda line: click.echo(line["message"]))
    )
    ended = follow(state.url, state.token, deployment_id, on_line=echo_line, timeout=timeout)
    detail = client.get(f"/deployments/{deployment_id}")
    if ended.status != "success":
        if state.as_json:
            click.echo(json.dumps(detail, indent=2, default=str))
        else:
            reason = f": {ended.error}" if ended.error else ""
            click.echo(f"Deploy {ended.status}{reason}", err=True)
        sys.exit(EXIT_DEPLOY_FAILED)
    return detail


@command(name="deploy")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option("--site", "site_ref", help="The site (id, slug or address) a folder goes to.")
@click.option("--draft", is_flag=True, help="Publish without making it live (promote later).")
@click.option("--git", "repository", help="Build a git repository (URL or GitHub owner/name).")
@click.option("--branch", default="", help="With --git: the branch (default: the repository's).")
@click.option("--build-command", default=None, help="With --git: the build command.")
@click.option("--install-command", default=None, help="With --git: the install command.")
@click.option("--output-dir", default=None, help="With --git: the folder the build produces.")
@click.option("--latest", is_flag=True, help="With --site: build the head of its git branch.")
@click.option("--wait", is_flag=True, help="Stream the log; exit non-zero if the deploy fails.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after seconds.")
def deploy(
    state: State,
    folder,
    site_ref,
    draft,
    repository,
    branch,
    build_command,
    install_command,
    output_dir,
    latest,
    wait,
    timeout,
):
    """Deploy FOLDER to a site (uploading only the files the server lacks), a git repository
    (--git), or the head of a git site's branch (--site S --latest)."""
    client = state.client()
    if sum(bool(x) for x in (folder, repository, latest)) != 1:
        raise click.UsageError("Give a FOLDER (with --site), or --git REPOSITORY, or --latest.")
    if repository:
        body = {"repository": repository, "branch": branch}
        for key, value in (
            ("buildCommand", build_command),
            ("installCommand", install_command),
            ("outputDir", output_dir),
        ):
            if value is not None:
                body[key] = value
        created = client.post("/deployments", body)
        deployment_id = created["id"]
        summary = f"Queued build {deployment_id} of {repository}"
    elif latest:
        if not site_ref:
            raise click.UsageError("--latest needs --site.")
        site = client.site(site_ref)
        created = client.post(f"/sites/{site['id']}/deploy-latest")
        deployment_id = created["id"]
        summary = f"Queued build {deployment_id} of {site['slug']}"
    else:
        if not site_ref:
            raise click.UsageError("A folder deploy needs --site (an id, slug or address).")
        site = client.site(site_ref)
        done = deploy_folder(
            client, site["id"], folder, draft=draft, progress=lambda m: note(state, m)
        )
        created = done.deployment
        deployment_id = created["id"]
        where = created.get("deploymentUrl") if draft else created.get("url")
        summary = (
            f"Deployed {done.files} files ({done.uploaded} uploaded, {done.uploaded_bytes} bytes) "
            f"as {deployment_id}: {where}"
        )
    if wait:
        detail = _wait(state, deployment_id, timeout)
        url = detail.get("deploymentUrl") if draft else detail.get("url")
        emit(state, detail, f"Deploy {deployment_id} succeeded: {url}")
        return
    emit(state, created, summary)


# --- deployments, logs, rollback, promote -------------------------------------------------------


def _deployment_of(state: State, deployment_ref: str | None, site_ref: str | None) -> str:
    """A deployment id given, or the newest deployment of --site."""
    if deployment_ref:
        if not is_uuid(deployment_ref):
            raise click.UsageError("Give the deployment's full id (see `berth deployments`).")
        return deployment_ref
    if not site_ref:
        raise click.UsageError("Give a DEPLOYMENT id or --site.")
    client = state.client()
    site = client.site(site_ref)
    newest = client.get(f"/hosting/spaces/{site['id']}/deployments", limit=1)["deployments"]
    if not newest:
        raise ApiError(404, "DEPLOYMENT_NOT_FOUND", f"{site['slug']} has no deployments yet.")
    return newest[0]["id"]


@command(name="deployments")
@click.option("--site", "site_ref", help="Only this site's deployments.")
@click.option("--limit", type=int, default=20, show_default=True)
def deployments(state: State, site_ref, limit):
    """Recent deployments, newest first."""
    client = state.client()
    if site_ref:
        site = client.site(site_ref)
        rows = client.get(f"/hosting/spaces/{site['id']}/deployments", limit=limit)["deployments"]
    else:
        rows = client.get("/deployments", limit=limit)["deployments"]

    def show():
        for row in rows:
            live = " (live)" if row.get("isLive") else ""
            when = row.get("createdAt") or row.get("timestamp")
            click.echo(f"{row['id']}  {row['status']:<10} {row.get('source', ''):<9} {when}{live}")

    emit(state, rows, show)


@command(name="logs")
@click.argument("deployment_ref", required=False)
@click.option("--site", "site_ref", help="The newest deployment of this site.")
@click.option("--tail", type=int, default=None, help="Only the last N lines.")
@click.option("--follow", "-f", "follow_", is_flag=True, help="Keep printing new lines.")
def logs(state: State, deployment_ref, site_ref, tail, follow_):
    """A deployment's build log (DEPLOYMENT id, or the newest of --site)."""
    client = state.client()
    deployment_id = _deployment_of(state, deployment_ref, site_ref)
    if tail:
        lines = client.get(f"/deployments/{deployment_id}/logs", tail=tail, limit=tail)["logs"]
    else:
        lines = list(client.pages(f"/deployments/{deployment_id}/logs", "logs", limit=1000))
    if follow_:
        after = lines[-1]["seq"] if lines else 0
        if not state.as_json:
            for line in lines:
                click.echo(line["message"])
        collected = list(lines)

        def on_line(line):
            collected.append(line)
            if not state.as_json:
                click.echo(line["message"])

        ended = follow(state.url, state.token, deployment_id, after=after, on_line=on_line)
        if state.as_json:
            click.echo(json.dumps({"logs": collected, "status": ended.status}, indent=2))
        return

    def show():
        for line in lines:
            click.echo(line["message"])

    emit(state, {"logs": lines}, show)


@command(name="rollback")
@click.argument("deployment_ref", required=False)
@click.option("--site", "site_ref", help="Roll the site back to the release before the live one.")
def rollback(state: State, deployment_ref, site_ref):
    """Make an earlier deployment live again (DEPLOYMENT id, or the one before the live
    release of --site)."""
    client = state.client()
    if deployment_ref:
        target = _deployment_of(state, deployment_ref, None)
    elif site_ref:
        site = client.site(site_ref)
        target = _previous_release(client, site)
    else:
        raise click.UsageError("Give a DEPLOYMENT id or --site.")
    restored = client.post(f"/deployments/{target}/rollback")
    emit(state, restored, f"Rolled back: {restored['url']} serves {target} again.")


def _previous_release(client: Client, site: dict) -> str:
    live = site.get("liveDeploymentId")
    seen_live = False
    for row in client.pages(f"/hosting/spaces/{site['id']}/deployments", "deployments"):
        if row["id"] == live:
            seen_live = True
            continue
        if seen_live and row["status"] == "success" and row.get("source") != "rollback":
            return row["id"]
    raise ApiError(404, "DEPLOYMENT_NOT_FOUND", f"{site['slug']} has no earlier release.")


@command(name="promote")
@click.argument("deployment_ref")
def promote(state: State, deployment_ref):
    """Make a preview or draft deployment production (no rebuild)."""
    target = _deployment_of(state, deployment_ref, None)
    promoted = state.client().post(f"/deployments/{target}/promote")
    emit(state, promoted, f"Promoted {target}: live at {promoted['url']}.")


# --- domains and previews -----------------------------------------------------------------------


@cli.group()
def domains():
    """Your domains."""


@command(domains, name="list")
def domains_list(state: State):
    """Domains of the current team, with their verification state."""
    found = list(state.client().pages("/domains", "domains"))

    def show():
        if not found:
            click.echo("No domains.")
        for domain in found:
            site = domain["siteId"] or "-"
            click.echo(f"{domain['name']:<40} {domain['status']:<12} site {site}")

    emit(state, found, show)


@cli.group()
def previews():
    """A site's branch and pull request previews."""


@command(previews, name="list")
@click.option("--site", "site_ref", required=True, help="The site (id, slug or address).")
def previews_list(state: State, site_ref):
    """The site's previews and what each serves."""
    client = state.client()
    site = client.site(site_ref)
    found = client.get(f"/sites/{site['id']}/previews")["previews"]

    def show():
        if not found:
            click.echo("No previews.")
        for preview in found:
            click.echo(f"{preview['name']:<30} {preview['status']:<10} {preview['url']}")

    emit(state, found, show)


@command(previews, name="delete")
@click.argument("name")
@click.option("--site", "site_ref", required=True, help="The site (id, slug or address).")
def previews_delete(state: State, name, site_ref):
    """Remove a preview: its address stops answering (its deployments stay)."""
    client = state.client()
    site = client.site(site_ref)
    removed = client.delete(f"/sites/{site['id']}/previews/{name}")
    emit(state, removed, f"Removed the preview {name} of {site['slug']}.")
