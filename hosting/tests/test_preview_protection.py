"""Protected previews: a site's preview and deployment addresses behind the team's sign-in or a
password, on both servers; the production address stays public. Also: an offline site is
offline (503) at every address on both servers."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import pytest

from deployments.models import Deployment
from deployments.services import deployment_publish
from deployments.tests.factories import files, make_site
from hosting.hostnames import DEPLOYMENT_ID_LENGTH
from hosting.models import Site
from hosting.services import site_preview_protection_set, site_set_offline
from hosting.serving.app import HostRouter
from hosting.serving.edge import edge_sync
from hosting.tests.serving_support import asgi_get
from hosting.tests.test_edge import edge, eventually  # noqa: F401  (the nginx fixture)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery"


async def django_stub(scope, receive, send):
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


def previewed_site(owner, slug: str):
    """A site with a live deployment and a preview ``feature-x--<slug>``."""
    site = make_site(owner, slug=slug)
    live = deployment_publish(
        site=site, files=files({"index.html": b"production"}), source="upload"
    )
    preview = deployment_publish(
        site=site,
        files=files({"index.html": b"preview home", "about.html": b"preview about"}),
        source="upload",
        activate=False,
    )
    Deployment.objects.filter(pk=preview.pk).update(preview="feature-x")
    return site, live, preview


def cookies_of(answer) -> str:
    """The Cookie header a browser sends back after ``answer``'s Set-Cookie headers."""
    jar = SimpleCookie()
    for name, value in answer.headers:
        if name.lower() == "set-cookie":
            jar.load(value)
    return "; ".join(f"{key}={morsel.value}" for key, morsel in jar.items())


def panel_path(location: str) -> str:
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def unlock_with_password(client, location: str, password: str):
    """What the visitor's browser does on the panel's unlock page: open it, enter the
    password. Returns the panel's answer."""
    page = client.get(panel_path(location))
    assert page.status_code == 200 and b'type="password"' in page.content
    host = page.context["form"].initial["host"]
    next_path = page.context["form"].initial["next"]
    return client.post("/previews/unlock/", {"host": host, "next": next_path, "password": password})


def follow_unlock(get, link: str):
    """Open the unlock link on the preview's address (``get(host, path, headers)``)."""
    parts = urlsplit(link)
    return get(parts.hostname, parts.path)


def test_a_password_protects_previews_on_the_embedded_server(client, alice, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    site, _, preview = previewed_site(alice, "guarded")
    short = f"{preview.pk.hex[:DEPLOYMENT_ID_LENGTH]}--guarded.localhost"
    site_preview_protection_set(site=site, protection="password", password=PASSWORD)
    router = HostRouter(django_stub)

    def get(host, path, headers=None):
        return asgi_get(router, host, path, headers)

    assert get("guarded.localhost", "/").body == b"production"  # production stays public
    for host in ("feature-x--guarded.localhost", short):
        locked = get(host, "/about.html?ref=mail")
        assert locked.status == 302 and b"preview" not in locked.body
        location = locked.header("location")
        assert location == (
            f"{settings.PANEL_URL}/previews/unlock/?host={host}&next=/about.html?ref=mail"
        )

    location = get("feature-x--guarded.localhost", "/about.html").header("location")
    wrong = unlock_with_password(client, location, "not the password")
    assert wrong.status_code == 403 and "not right" in wrong.content.decode()
    answer = unlock_with_password(client, location, PASSWORD)
    assert answer.status_code == 302
    link = answer["Location"]
    assert link.startswith("http://feature-x--guarded.localhost")

    opened = follow_unlock(get, link)
    assert opened.status == 302 and opened.header("location") == "/about.html"
    cookie = cookies_of(opened)
    seen = get("feature-x--guarded.localhost", "/about.html", {"cookie": cookie})
    assert seen.status == 200 and seen.body == b"preview about"
    # The cookie opens that address only, and a forged link opens nothing.
    assert get(short, "/", {"cookie": cookie}).status == 302
    forged = link.replace(urlsplit(link).path.split("/")[3], "A" * 22)
    assert follow_unlock(get, forged).status == 403

    # A new protection (here: a new password) signs everyone out.
    site_preview_protection_set(site=site, protection="password", password="another password")
    router = HostRouter(django_stub)
    assert get("feature-x--guarded.localhost", "/", {"cookie": cookie}).status == 302

    site_preview_protection_set(site=site, protection="off")
    router = HostRouter(django_stub)
    assert get("feature-x--guarded.localhost", "/").body == b"preview home"


def test_team_protection_lets_members_in_and_keeps_others_out(client, alice, bob, settings):
    site, _, _ = previewed_site(alice, "members")
    site_preview_protection_set(site=site, protection="team")
    router = HostRouter(django_stub)
    location = asgi_get(router, "feature-x--members.localhost", "/").header("location")

    anonymous = client.get(panel_path(location))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")

    client.force_login(bob)
    outsider = client.get(panel_path(location))
    assert outsider.status_code == 403 and "Only members" in outsider.content.decode()

    client.force_login(alice)
    member = client.get(panel_path(location))
    assert member.status_code == 302
    opened = follow_unlock(lambda h, p: asgi_get(router, h, p), member["Location"])
    assert opened.status == 302
    seen = asgi_get(router, "feature-x--members.localhost", "/", {"cookie": cookies_of(opened)})
    assert seen.body == b"preview home"


def test_the_settings_page_sets_the_protection(web, alice):
    site, _, _ = previewed_site(alice, "settable")
    page = web.get(f"/sites/{site.pk}/settings/")
    assert page.status_code == 200 and "Preview protection" in page.content.decode()
    url = f"/sites/{site.pk}/previews/protection/"
    short = web.post(url, {"protection": "password", "password": "short"})
    assert short.status_code == 422 and "at least 8 characters" in short.content.decode()
    missing = web.post(url, {"protection": "password"})
    assert missing.status_code == 422 and "Set the password" in missing.content.decode()
    saved = web.post(url, {"protection": "password", "password": PASSWORD})
    assert saved.status_code == 302
    site.refresh_from_db()
    assert site.preview_protection == "password" and PASSWORD not in site.preview_password
    assert site.preview_secret
    kept = web.post(url, {"protection": "password"})  # an empty password keeps the old one
    assert kept.status_code == 302
    site.refresh_from_db()
    assert site.preview_password and site.preview_protection == "password"


def test_the_unlock_page_refuses_addresses_that_are_not_previews(client, alice):
    make_site(alice, slug="plain")
    answer = client.get("/previews/unlock/?host=plain.localhost&next=/")
    assert answer.status_code == 404 and "not the address of a preview" in answer.content.decode()
    answer = client.get("/previews/unlock/?host=elsewhere.example.com&next=/")
    assert answer.status_code == 404


def test_the_edge_locks_previews_as_the_embedded_server_does(edge, client, alice, settings):  # noqa: F811
    site, _, _ = previewed_site(alice, "edgelock")
    own = deployment_publish(  # a deployment with rules gets its own server block
        site=site,
        files=files({"index.html": b"ruled", "_redirects": b"/go /index.html 302\n"}),
        source="upload",
        activate=False,
    )
    own_host = f"{own.pk.hex[:DEPLOYMENT_ID_LENGTH]}--edgelock.localhost"
    site_preview_protection_set(site=site, protection="password", password=PASSWORD)
    edge_sync()
    nginx = edge()

    assert nginx.get("edgelock.localhost", "/").body == b"production"
    for host in ("feature-x--edgelock.localhost", own_host):
        locked = nginx.get(host, "/about.html?ref=mail")
        assert locked.status == 302, (host, locked)
        assert locked.header("location") == (
            f"{settings.PANEL_URL}/previews/unlock/?host={host}&next=/about.html?ref=mail"
        )

    location = nginx.get("feature-x--edgelock.localhost", "/about.html").header("location")
    answer = unlock_with_password(client, location, PASSWORD)
    opened = follow_unlock(nginx.get, answer["Location"])
    assert opened.status == 302 and opened.header("location") == "/about.html"
    assert "HttpOnly" in opened.header("set-cookie")
    cookie = cookies_of(opened)
    seen = nginx.get("feature-x--edgelock.localhost", "/about.html", {"cookie": cookie})
    assert seen.status == 200 and seen.body == b"preview about"
    assert nginx.get(own_host, "/", {"cookie": cookie}).status == 302  # that address only
    forged = answer["Location"].replace(urlsplit(answer["Location"]).path.split("/")[3], "A" * 22)
    assert follow_unlock(nginx.get, forged).status == 403
    evil = f"/.berth/unlock/{'A' * 22}/9999999999//evil.example.com"
    assert nginx.get("feature-x--edgelock.localhost", evil).status == 302  # to the panel
    assert "evil" not in nginx.get("feature-x--edgelock.localhost", evil).header("location")[:40]

    own_link = unlock_with_password(client, nginx.get(own_host, "/").header("location"), PASSWORD)
    opened = follow_unlock(nginx.get, own_link["Location"])
    assert nginx.get(own_host, "/go", {"cookie": cookies_of(opened)}).status == 302  # its rules

    site_preview_protection_set(site=site, protection="off")
    assert edge_sync().reloaded
    opened = eventually(lambda: nginx.get("feature-x--edgelock.localhost", "/"), 200)
    assert opened.body == b"preview home"


def test_an_offline_site_answers_503_at_every_address_on_both_servers(edge, alice):  # noqa: F811
    site, live, _ = previewed_site(alice, "dark")
    short = f"{live.pk.hex[:DEPLOYMENT_ID_LENGTH]}--dark.localhost"
    edge_sync()
    nginx = edge()
    assert nginx.get(short, "/").body == b"production"
    site_set_offline(site=Site.objects.get(pk=site.pk), offline=True)
    assert edge_sync().reloaded
    eventually(lambda: nginx.get("dark.localhost", "/"), 503)
    router = HostRouter(django_stub)
    for host in ("dark.localhost", short, "feature-x--dark.localhost"):
        at_edge, embedded = nginx.get(host, "/"), asgi_get(router, host, "/")
        assert at_edge.status == embedded.status == 503, host
        assert b"offline" in at_edge.body and b"offline" in embedded.body


def test_the_api_sets_and_shows_the_protection(api, alice):
    site, _, _ = previewed_site(alice, "apilock")
    assert api.get(f"/api/sites/{site.pk}").json()["previewProtection"] == "off"
    short = api.patch(
        f"/api/sites/{site.pk}",
        {"previewProtection": "password", "previewPassword": "short"},
        format="json",
    )
    assert short.status_code == 422
    assert "at least 8 characters" in str(short.json()["error"])
    answer = api.patch(
        f"/api/sites/{site.pk}",
        {"previewProtection": "password", "previewPassword": PASSWORD},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["previewProtection"] == "password" and "previewPassword" not in body
    router = HostRouter(django_stub)
    assert asgi_get(router, "feature-x--apilock.localhost", "/").status == 302
