"""The role × endpoint matrix: how an entry is written, the team it runs against, the runner.

The entries themselves are in ``teams/tests/endpoint_matrix.py`` (see docs/teams.md, "Adding an
endpoint to the matrix").
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from conftest import make_user
from teams.models import Invitation, Membership, Role

# Who may call an endpoint, besides the four roles of teams.models.Role.
PERSONAL = "personal"  # acts for the signed-in person only (profile, own tokens); anyone signed in
PUBLIC = "public"  # no sign-in needed
OPERATOR = "operator"  # staff only: every customer, whatever their role, is refused

ROLE_ORDER = [Role.OWNER, Role.ADMIN, Role.DEVELOPER, Role.VIEWER]
# Alice owns the team, Bob develops, Carol views, Dave is outside it.
MEMBERS = {"alice": Role.OWNER, "bob": Role.DEVELOPER, "carol": Role.VIEWER}


@dataclass(frozen=True)
class Case:
    """One method of one endpoint.

    ``allowed``: the least role that may call it (owner/admin/developer/viewer), or PERSONAL
    or PUBLIC. ``kwargs`` maps URL arguments to objects of the world (``"site"``,
    ``"deployment"``, ...; personal objects are the caller's own: ``"own_token"``).
    ``data`` is the body (JSON for the API, a form for pages; a callable gets the world).
    ``ok``: statuses that count as success besides 2xx and 3xx (say, 422 when the call
    reaches a service that needs something this machine lacks)."""

    method: str
    allowed: str
    kwargs: dict = field(default_factory=dict)
    data: object = None
    query: str = ""
    ok: tuple = ()
    multipart: bool = False

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Exempt:
    """An endpoint that does not act for a member of a team; ``reason`` says why."""

    reason: str


def walk(patterns=None, prefix: str = ""):
    """Every URL pattern of the project: (route, pattern)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def entry_for(route: str, endpoints: dict):
    if route in endpoints:
        return endpoints[route]
    for key, value in endpoints.items():
        if key.endswith("*") and route.startswith(key[:-1]):
            return value
    return None


def implemented_methods(pattern) -> set[str]:
    """HTTP methods a class-based view implements (empty for function views)."""
    view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
    if view is None:
        return set()
    names = ("get", "post", "put", "patch", "delete")
    return {name.upper() for name in names if hasattr(view, name)} & {
        m.upper() for m in getattr(view, "http_method_names", names)
    }


def allowed_roles(allowed: str) -> set[str]:
    if allowed in (PERSONAL, PUBLIC):
        return set(Role.values)
    if allowed == OPERATOR:
        return set()
    return set(ROLE_ORDER[: ROLE_ORDER.index(allowed) + 1])


# --- the world every case runs against -----------------------------------------------------


# A 1×1 transparent PNG: the file manager previews images only.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000105e6275a0000000049454e44ae426082"
)
SITE_FILES = {
    "index.html": b"<h1>Acme 2</h1>",
    "about.html": b"<h1>About</h1>",
    "logo.png": PIXEL_PNG,
}


class World(dict):
    """Alice's team "Acme" with Bob (developer) and Carol (viewer), Dave outside it, and one of
    everything the team can own."""

    def reset_files(self) -> None:
        """Put the site's working files back as built (the database is rolled back apart)."""
        from hosting.files.backends import tree_for

        tree = tree_for(self["site"].pk)
        tree.remove_all()
        for path, content in SITE_FILES.items():
            tree.save(path, io.BytesIO(content))


def build_world() -> World:
    from accounts.models import BrowserSession
    from accounts.services import personal_token_create
    from deployments.models import Deployment, Project
    from deployments.services import deployment_publish
    from domains import services as domain_services
    from domains import zones
    from domains.tests.factories import register_domain
    from hosting.files.operations import text_save
    from hosting.services import site_create, site_deploy
    from teams.services import team_create, team_switch
    from wordpress.tests.factories import wordpress_site_make

    users = {
        name: make_user(f"{name}@example.com", name.title())
        for name in ("alice", "bob", "carol", "dave")
    }
    team = team_create(owner=users["alice"], name="Acme")
    for name, role in MEMBERS.items():
        if role != Role.OWNER:
            Membership.objects.create(team=team, user=users[name], role=role)
    for name in MEMBERS:
        team_switch(user=users[name], team=team)
    alice = users["alice"]
    site = site_create(team=team, owner=alice, name="Acme Web", slug="acme-web")
    text_save(site=site, path="index.html", content="<h1>Acme</h1>")
    text_save(site=site, path="about.html", content="<h1>About</h1>")
    old = site_deploy(site=site, author=alice)
    text_save(site=site, path="index.html", content="<h1>Acme 2</h1>")
    site_deploy(site=site, author=alice)
    app = site_create(team=team, owner=alice, name="Acme App", slug="acme-app")
    blog = wordpress_site_make(team=team, owner=alice, name="Acme Blog", slug="acme-blog")
    project = Project.objects.create(
        team=team,
        owner=alice,
        site=app,
        name="app",
        repository="https://git.example/acme/app.git",
        clone_url="https://git.example/acme/app.git",
    )
    deployment_publish(
        site=app,
        files=[("index.html", lambda: io.BytesIO(b"<h1>App</h1>"))],
        source=Deployment.Source.GIT,
        author=alice,
    )
    queued = Deployment.objects.create(
        site=app,
        project=project,
        author=alice,
        source=Deployment.Source.GIT,
        status=Deployment.Status.QUEUED,
        branch="main",
    )
    domain = register_domain(alice, "acme.test", team=team)
    record = zones.record_create(
        domain=domain, name="www", type="CNAME", content="acme-web.sites.localhost"
    )
    type(domain).objects.filter(pk=domain.pk).update(site=site)
    external = domain_services.domain_add(team=team, owner=alice, name="acme.example")
    invitation = Invitation.objects.create(
        team=team, email="erin@example.com", role=Role.VIEWER, invited_by=alice
    )
    world = World(
        invitation=invitation,
        app_site=app,
        wp_site=blog,
        carol=users["carol"],
        external_domain=external,
        users=users,
        team=team,
        site=site,
        deployment=old,
        project=project,
        queued_deployment=queued,
        domain=domain,
        record=record,
    )
    for name, user in users.items():
        world[f"token:{name}"] = personal_token_create(user=user, name="matrix").token
        world[f"session:{name}"] = BrowserSession.objects.create(
            user=user, session_key=f"matrix-{name}"
        )
    world.reset_files()
    return world


def resolve_kwargs(case: Case, world: World, user_name: str) -> dict:
    out = {}
    for key, ref in case.kwargs.items():
        if ref == "own_token":
            out[key] = world[f"token:{user_name}"].pk
        elif ref == "own_session":
            out[key] = world[f"session:{user_name}"].pk
        elif callable(ref):
            out[key] = ref(world)
        elif isinstance(ref, str) and ref in world:
            out[key] = world[ref].pk
        else:
            out[key] = ref  # a literal (a file path, a repository name)
    return out


def fill_route(route: str, values: dict) -> str:
    """``sites/<uuid:pk>/`` with {"pk": ...} -> ``/sites/<id>/``."""

    def replace(match):
        return str(values[match.group(2)])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", replace, route)


def request(route: str, case: Case, world: World, user_name: str | None):
    """Call the endpoint as ``user_name`` (None: anonymous); answer the response."""
    client = APIClient()
    user = world["users"][user_name] if user_name else None
    if user is not None:
        client.force_login(user)
    url = fill_route(route, resolve_kwargs(case, world, user_name or "alice"))
    query = case.query
    if not case.kwargs and case.allowed not in (PERSONAL, PUBLIC, OPERATOR):
        # No object in the URL: the call acts in the team named by the ``team`` parameter.
        query = "&".join(q for q in (query, f"team={world['team'].pk}") if q)
    if query:
        url = f"{url}?{query}"
    data = case.data(world) if callable(case.data) else case.data
    is_api = route.startswith("api/")
    method = getattr(client, case.method.lower())
    if case.method in ("GET", "HEAD"):
        return method(url, HTTP_ACCEPT="*/*" if is_api else "text/html")
    if case.multipart:
        files = {k: (io.BytesIO(v) if isinstance(v, bytes) else v) for k, v in (data or {}).items()}
        return method(url, files, format="multipart")
    if is_api:
        return method(url, data or {}, format="json")
    return method(url, data or {})
