"""Every endpoint of the project and who may call it: the role × endpoint matrix.

``teams/tests/test_matrix.py`` walks every URL pattern and fails when one is missing here,
then calls each case as Alice (owner), Bob (developer), Carol (viewer) and Dave (outside the
team): allowed -> success; not allowed -> 403 FORBIDDEN for a member, 404 for Dave.

Add a new endpoint under its route (as Django prints it, e.g. ``"api/sites/<uuid:pk>"``) with
one ``Case`` per method; see teams/tests/matrix.py for the fields and docs/teams.md for the
roles. Objects of the world (teams/tests/matrix.py, ``build_world``): site (files index.html,
about.html, logo.png), deployment (an old release of the site), project, queued_deployment (a
git build of the project), domain (registered, zone hosted, attached to the site),
external_domain (added, not registered), record, team; the caller's own: own_token,
own_session. Each allowed write runs in a savepoint rolled back afterwards.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import PASSWORD
from teams.tests.matrix import OPERATOR, PERSONAL, PUBLIC, Case, Exempt

OWNER, ADMIN, DEVELOPER, VIEWER = "owner", "admin", "developer", "viewer"
SITE = {"pk": "site"}
WP_SITE = {"pk": "wp_site"}
DEPLOYMENT = {"pk": "deployment"}
DOMAIN = {"pk": "domain"}
RECORD = {"pk": "domain", "record_id": "record"}
TEAM = {"pk": "team"}
CAROL = {"pk": "team", "user_pk": "carol"}
INVITATION = {"pk": "team", "invitation_pk": "invitation"}
INVITATION_KEY = lambda world: world["invitation"].key  # noqa: E731
NEEDS_GITHUB = (409, 422, 503)  # GitHub is not configured in tests: the call reaches the service


def upload(world=None):
    return {"file": SimpleUploadedFile("new.html", b"<p>new</p>", "text/html")}


def editor_page(world) -> str:
    """The id of the world's site's editor page (made on first use; writes roll back)."""
    from editor.models import Page
    from editor.services import page_create

    page = Page.objects.filter(site=world["site"], slug="home").first()
    if page is None:
        page = page_create(site=world["site"], title="Home", slug="home")
    return page.pk


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def uploading_deployment(world, files=None) -> str:
    """A folder deploy of the world's site waiting for its files (made in the savepoint)."""
    from deployments.uploads import upload_deploy_start

    wanted = files or {"data.json": _sha256(b"{}")}  # the matrix PUTs the JSON body "{}"
    return upload_deploy_start(site=world["site"], files=wanted).deployment.pk


def publishable_deployment(world) -> str:
    """A folder deploy whose only file the site's releases hold already."""
    return uploading_deployment(world, {"index.html": _sha256(b"<h1>Acme 2</h1>")})


def site_preview(world) -> str:
    """The name of a preview of the world's site (its old release, labelled in the savepoint)."""
    type(world["deployment"]).objects.filter(pk=world["deployment"].pk).update(preview="feature")
    return "feature"


def site_with_pages(world) -> str:
    editor_page(world)
    return world["site"].pk


def editor_image(world=None):
    from teams.tests.matrix import PIXEL_PNG

    return {"file": SimpleUploadedFile("pixel.png", PIXEL_PNG, "image/png")}


def site_backup(world) -> str:
    """A succeeded backup row of the world's site (the backups tests make real ones)."""
    from backups.models import Backup

    backup = Backup.objects.filter(site=world["site"], state=Backup.State.SUCCEEDED).first()
    if backup is None:
        backup = Backup.objects.create(
            site=world["site"], state=Backup.State.SUCCEEDED, snapshot_id="0" * 64
        )
    return backup.pk


def site_restore(world) -> str:
    from backups.models import Restore

    restore = Restore.objects.filter(backup__site=world["site"]).first()
    if restore is None:
        from backups.models import Backup

        restore = Restore.objects.create(
            backup=Backup.objects.get(pk=site_backup(world)),
            state=Restore.State.FAILED,
            reason="The snapshot could not be read.",
        )
    return restore.pk


BACKUP = {"pk": "site", "backup_id": site_backup}
RESTORE = {"pk": "site", "restore_id": site_restore}
EDITOR_PAGE = {"pk": editor_page}
EDITOR_REVISION = {"pk": editor_page, "number": 1}
EDITOR_DOCUMENT = {
    "document": {"pages": [{"frames": [{"component": {"type": "wrapper", "components": []}}]}]},
    "baseRevision": None,
}


def invoice(world):
    """An invoice of the team, issued by the built-in provider (made once, kept)."""
    from decimal import Decimal

    from billing.models import Invoice
    from billing.services import invoice_issue

    found = Invoice.objects.filter(team=world["team"]).first()
    return found or invoice_issue(
        team=world["team"], lines=[("Standard plan", 1, Decimal("19.00"))], currency="USD"
    )


INVOICE = {"pk": lambda world: invoice(world).pk}


def purchase(world):
    """A renewal of the world's domain awaiting payment (an invoice without Stripe)."""
    from decimal import Decimal

    from billing.models import Purchase
    from billing.purchases import purchase_start

    found = Purchase.objects.filter(team=world["team"], status="pending").first()
    return found or purchase_start(
        team=world["team"],
        kind=Purchase.Kind.DOMAIN_RENEWAL,
        subject=world["domain"].name,
        description=f"Renewal of {world['domain'].name} (1 year)",
        amount=Decimal("12.00"),
        currency="USD",
        details={"domain_id": str(world["domain"].pk), "years": 1},
    )


PURCHASE = {"pk": lambda world: purchase(world).pk}


ENDPOINTS: dict[str, list[Case] | Exempt] = {
    # --- pages belonging to no team -------------------------------------------------------
    "": [Case("GET", PUBLIC)],
    "health": [Case("GET", PUBLIC)],
    "login": Exempt("a redirect to allauth's sign-in page"),
    "signup": Exempt("a redirect to allauth's sign-up page"),
    "forgot-password": Exempt("a redirect to allauth's password reset"),
    "accounts/*": Exempt("allauth: signing in, up and out acts for a person, not a team"),
    "admin/*": Exempt("operators only (is_staff); their changes are audited in the admin"),
    "api/schema/": [Case("GET", PUBLIC)],
    "api/docs/": [Case("GET", PUBLIC)],
    "^media/(?P<path>avatars/.+)$": Exempt("public avatar files"),
    "api/github/webhook": Exempt("GitHub's signed push webhook: authenticated by signature"),
    "api/webhooks/github": Exempt("GitHub's signed push webhook: authenticated by signature"),
    "api/billing/stripe/webhook": Exempt("Stripe's signed webhook: authenticated by signature"),
    # --- billing: owners and admins see it, owners pay ------------------------------------------
    "billing/": [Case("GET", ADMIN)],
    "billing/subscribe/": [
        Case("GET", OWNER, query="plan=standard"),
        Case("POST", OWNER, data={"plan": "free"}),
    ],
    "billing/portal/": [Case("POST", OWNER)],
    "billing/invoices/<uuid:pk>/": [Case("GET", ADMIN, kwargs=INVOICE)],
    "billing/invoices/<uuid:pk>/pdf": [Case("GET", ADMIN, kwargs=INVOICE)],
    "billing/purchases/<uuid:pk>/": [Case("GET", ADMIN, kwargs=PURCHASE)],
    "billing/purchases/<uuid:pk>/pay/": [Case("POST", ADMIN, kwargs=PURCHASE)],
    "billing/purchases/<uuid:pk>/cancel/": [Case("POST", ADMIN, kwargs=PURCHASE)],
    "api/billing/purchases/<uuid:pk>": [Case("GET", ADMIN, kwargs=PURCHASE)],
    "api/billing/purchases/<uuid:pk>/cancel": [Case("POST", ADMIN, kwargs=PURCHASE)],
    "api/billing/plans": [Case("GET", PERSONAL)],
    "api/billing/subscription": [Case("GET", ADMIN)],
    "api/billing/subscribe": [Case("POST", OWNER, data={"plan": "free"})],
    "api/billing/portal": [Case("POST", OWNER, ok=(409,))],
    "api/billing/usage": [Case("GET", ADMIN)],
    "api/billing/invoices": [Case("GET", ADMIN)],
    "api/admin/transactions": [Case("GET", OPERATOR)],
    # --- the dashboard and the person's own settings ----------------------------------------
    "dashboard/": [Case("GET", VIEWER)],
    "settings/": [Case("GET", PERSONAL)],
    "settings/<slug:tab>/": [
        Case("GET", PERSONAL, kwargs={"tab": "profile"}),
        Case("POST", PERSONAL, kwargs={"tab": "profile"}, data={"name": "New Name"}),
    ],
    "settings/tokens/<uuid:pk>/revoke/": [Case("POST", PERSONAL, kwargs={"pk": "own_token"})],
    "settings/sessions/end-all/": [Case("POST", PERSONAL)],
    "settings/sessions/<uuid:pk>/revoke/": [Case("POST", PERSONAL, kwargs={"pk": "own_session"})],
    "settings/email/": [
        Case("GET", PERSONAL),
        Case("POST", PERSONAL, data={"email": "new@example.com"}, ok=(302,)),
    ],
    "settings/email/confirm/<str:key>/": [Case("GET", PERSONAL, kwargs={"key": "not-a-key"})],
    "settings/account/delete/": [Case("POST", PERSONAL, data={"password": "wrong"}, ok=(422,))],
    "github/connect/": [Case("GET", PERSONAL)],
    "github/disconnect/": [Case("POST", PERSONAL)],
    # --- sites and files (pages) --------------------------------------------------------------
    "sites/": [Case("GET", VIEWER)],
    "sites/new/": [
        Case("GET", DEVELOPER),
        Case("POST", DEVELOPER, data={"name": "Another", "slug": "acme-another"}),
    ],
    "sites/address-check/": [Case("GET", PERSONAL, query="slug=free-name")],
    "sites/<uuid:pk>/": [Case("GET", VIEWER, kwargs=SITE)],
    "sites/<uuid:pk>/deployments/": [Case("GET", VIEWER, kwargs=SITE)],
    "sites/<uuid:pk>/backups/": [Case("GET", VIEWER, kwargs=SITE)],
    "sites/<uuid:pk>/backups/new/": [Case("POST", DEVELOPER, kwargs=SITE)],
    "sites/<uuid:pk>/backups/schedule/": [
        Case(
            "POST", DEVELOPER, kwargs=SITE, data={"frequency": "daily", "hour": "3", "weekday": "0"}
        )
    ],
    "sites/<uuid:pk>/backups/<uuid:backup_pk>/restore/": [
        Case("POST", DEVELOPER, kwargs={"pk": "site", "backup_pk": site_backup})
    ],
    "sites/<uuid:pk>/backups/<uuid:backup_pk>/restore-elsewhere/": [
        Case(
            "POST",
            DEVELOPER,
            kwargs={"pk": "site", "backup_pk": site_backup},
            data={"new_site_name": "Restored copy"},
        )
    ],
    # The world's backup row has no snapshot in a repository: the page says so (a redirect).
    "sites/<uuid:pk>/backups/<uuid:backup_pk>/download/": [
        Case("GET", DEVELOPER, kwargs={"pk": "site", "backup_pk": site_backup})
    ],
    "sites/<uuid:pk>/backups/<uuid:backup_pk>/delete/": [
        Case("POST", DEVELOPER, kwargs={"pk": "site", "backup_pk": site_backup})
    ],
    "sites/<uuid:pk>/deploy/": [Case("POST", DEVELOPER, kwargs=SITE)],
    "sites/<uuid:pk>/deployments/<uuid:deployment_pk>/rollback/": [
        Case("POST", DEVELOPER, kwargs={"pk": "site", "deployment_pk": "deployment"})
    ],
    "sites/<uuid:pk>/settings/": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("POST", DEVELOPER, kwargs=SITE, data={"name": "Renamed"}),
    ],
    # WordPress sites: MariaDB and php-fpm are not configured here, so creating answers 409
    # with the reason and the pool actions report that the pool cannot be reached.
    "sites/new/wordpress/": [
        Case("GET", DEVELOPER),
        Case("POST", DEVELOPER, data={"name": "Blog", "admin_user": "x"}, ok=(409,)),
    ],
    "sites/<uuid:pk>/wordpress/": [Case("GET", VIEWER, kwargs=WP_SITE)],
    "sites/<uuid:pk>/wordpress/start/": [Case("POST", DEVELOPER, kwargs=WP_SITE)],
    "sites/<uuid:pk>/wordpress/stop/": [Case("POST", DEVELOPER, kwargs=WP_SITE)],
    "sites/<uuid:pk>/wordpress/delete/": [
        Case("POST", DEVELOPER, kwargs=WP_SITE, data={"confirm": "acme-blog"})
    ],
    "sites/<uuid:pk>/wordpress/login/": [Case("POST", DEVELOPER, kwargs=WP_SITE)],
    "sites/<uuid:pk>/wordpress/settings/": [
        Case("POST", DEVELOPER, kwargs=WP_SITE, data={"memory_limit_mb": 64})
    ],
    "sites/<uuid:pk>/wordpress/update/": [Case("POST", DEVELOPER, kwargs=WP_SITE)],
    "sites/<uuid:pk>/wordpress/password/": [
        Case("POST", DEVELOPER, kwargs=WP_SITE, data={"password": "a-long-new-password"})
    ],
    "sites/<uuid:pk>/status/": [Case("POST", DEVELOPER, kwargs=SITE, data={"action": "offline"})],
    "sites/<uuid:pk>/previews/protection/": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"protection": "team"})
    ],
    "previews/unlock/": Exempt(
        "a preview's visitor, signed in or not: the site's protection decides "
        "(hosting/tests/test_preview_protection.py)"
    ),
    "sites/<uuid:pk>/delete/": [Case("POST", DEVELOPER, kwargs=SITE)],
    "sites/<uuid:pk>/files/": [Case("GET", VIEWER, kwargs=SITE)],
    "sites/<uuid:pk>/files/upload/": [
        Case("POST", DEVELOPER, kwargs=SITE, data=upload, multipart=True)
    ],
    "sites/<uuid:pk>/files/folder/": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"folder": "", "name": "assets"})
    ],
    "sites/<uuid:pk>/files/new/": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"folder": "", "name": "new.html"}),
    ],
    "sites/<uuid:pk>/files/rename/": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"path": "about.html", "name": "team.html"})
    ],
    "sites/<uuid:pk>/files/move/": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"path": "about.html", "folder": ""}, ok=(302,))
    ],
    "sites/<uuid:pk>/files/delete/": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"path": "about.html"})
    ],
    "sites/<uuid:pk>/files/live/": [
        Case("GET", VIEWER, kwargs={"pk": "app_site"}, query="path=index.html")
    ],
    "sites/<uuid:pk>/files/live/download/": [
        Case("GET", VIEWER, kwargs={"pk": "app_site"}, query="path=index.html")
    ],
    "sites/<uuid:pk>/files/download/": [Case("GET", VIEWER, kwargs=SITE, query="path=index.html")],
    "sites/<uuid:pk>/files/preview/": [Case("GET", VIEWER, kwargs=SITE, query="path=logo.png")],
    "sites/<uuid:pk>/files/edit/": [
        Case("GET", VIEWER, kwargs=SITE, query="path=index.html"),
        Case(
            "POST",
            DEVELOPER,
            kwargs=SITE,
            query="path=index.html",
            data={"path": "index.html", "content": "<h1>Edited</h1>"},
        ),
    ],
    # --- deployments and projects (pages) -----------------------------------------------------
    "deploy/": [Case("GET", DEVELOPER)],
    "deployments/": [Case("GET", VIEWER)],
    "deployments/<uuid:pk>/": [Case("GET", VIEWER, kwargs=DEPLOYMENT)],
    "deployments/<uuid:pk>/log.txt": [Case("GET", VIEWER, kwargs=DEPLOYMENT)],
    "deployments/<uuid:pk>/cancel/": [Case("POST", DEVELOPER, kwargs={"pk": "queued_deployment"})],
    "deployments/<uuid:pk>/redeploy/": [
        Case("POST", DEVELOPER, kwargs={"pk": "queued_deployment"})
    ],
    "deployments/<uuid:pk>/delete/": [Case("POST", DEVELOPER, kwargs=DEPLOYMENT)],
    "projects/<uuid:pk>/deploy/": [Case("POST", DEVELOPER, kwargs={"pk": "project"})],
    "projects/<uuid:pk>/cache/clear/": [Case("POST", DEVELOPER, kwargs={"pk": "project"})],
    "projects/<uuid:pk>/": [
        Case("GET", VIEWER, kwargs={"pk": "project"}),
        Case(
            "POST",
            DEVELOPER,
            kwargs={"pk": "project"},
            data={"branch": "main", "output_dir": "dist", "build_command": ""},
        ),
    ],
    # --- domains and DNS (pages) --------------------------------------------------------------
    "domains/": [Case("GET", VIEWER)],
    "domains/search/": [Case("GET", PERSONAL, query="q=brand")],
    "domains/register/": [
        Case("GET", ADMIN, query="name=brand-new.test&years=1"),
        Case(
            "POST",
            ADMIN,
            data={"name": "brand-new.test", "years": 1, "confirm_price": "12.00"},
        ),
    ],
    "domains/add/": [
        Case("GET", ADMIN),
        Case("POST", ADMIN, data={"name": "outside.example", "site": ""}),
    ],
    "domains/<uuid:pk>/": [Case("GET", VIEWER, kwargs=DOMAIN)],
    "domains/<uuid:pk>/verify/": [Case("POST", ADMIN, kwargs=DOMAIN)],
    "domains/<uuid:pk>/attach/": [
        Case("POST", ADMIN, kwargs=DOMAIN, data={"site": "", "redirect": "none"})
    ],
    "domains/<uuid:pk>/registration/": [
        Case("POST", ADMIN, kwargs=DOMAIN, data={"auto_renew": "on", "transfer_lock": "on"})
    ],
    "domains/<uuid:pk>/renew/": [Case("POST", ADMIN, kwargs=DOMAIN, data={"years": 1})],
    "domains/<uuid:pk>/nameservers/": [
        Case(
            "POST", ADMIN, kwargs=DOMAIN, data={"nameservers": "ns1.acme.example ns2.acme.example"}
        )
    ],
    "domains/<uuid:pk>/dns/enable/": [Case("POST", ADMIN, kwargs=DOMAIN)],
    "domains/<uuid:pk>/delete/": [Case("POST", ADMIN, kwargs={"pk": "external_domain"})],
    "domains/<uuid:pk>/certificates/": [Case("POST", ADMIN, kwargs=DOMAIN)],
    "domains/<uuid:pk>/dns/": [
        Case("GET", VIEWER, kwargs=DOMAIN),
        Case(
            "POST",
            DEVELOPER,
            kwargs=DOMAIN,
            data={"name": "api", "type": "A", "content": "192.0.2.1", "ttl": 3600},
        ),
    ],
    "domains/<uuid:pk>/dns/<uuid:record_id>/": [
        Case("GET", VIEWER, kwargs=RECORD),
        Case(
            "POST",
            DEVELOPER,
            kwargs=RECORD,
            data={"name": "www", "type": "CNAME", "content": "acme.sites.localhost", "ttl": 600},
        ),
    ],
    "domains/<uuid:pk>/dns/<uuid:record_id>/delete/": [Case("POST", DEVELOPER, kwargs=RECORD)],
    # --- teams (pages) -------------------------------------------------------------------------
    "teams/": [Case("GET", PERSONAL), Case("POST", PERSONAL, data={"name": "Side project"})],
    "teams/switch/": [Case("POST", VIEWER, data=lambda world: {"team": str(world["team"].pk)})],
    "teams/<uuid:pk>/": [Case("GET", VIEWER, kwargs=TEAM)],
    "teams/<uuid:pk>/settings/": [Case("POST", ADMIN, kwargs=TEAM, data={"name": "Acme Inc"})],
    "teams/<uuid:pk>/invitations/": [
        Case("POST", ADMIN, kwargs=TEAM, data={"email": "fred@example.com", "role": "developer"})
    ],
    "teams/<uuid:pk>/invitations/<uuid:invitation_pk>/resend/": [
        Case("POST", ADMIN, kwargs=INVITATION)
    ],
    "teams/<uuid:pk>/invitations/<uuid:invitation_pk>/revoke/": [
        Case("POST", ADMIN, kwargs=INVITATION)
    ],
    "teams/<uuid:pk>/members/<uuid:user_pk>/role/": [
        Case("POST", ADMIN, kwargs=CAROL, data={"role": "developer"})
    ],
    "teams/<uuid:pk>/members/<uuid:user_pk>/remove/": [Case("POST", ADMIN, kwargs=CAROL)],
    "teams/<uuid:pk>/leave/": [Case("POST", VIEWER, kwargs=TEAM)],
    "teams/<uuid:pk>/transfer/": [
        Case("POST", OWNER, kwargs=TEAM, data=lambda world: {"user": str(world["carol"].pk)})
    ],
    "teams/<uuid:pk>/delete/": [Case("POST", OWNER, kwargs=TEAM, data={"confirm": "Acme"})],
    "teams/<uuid:pk>/audit/": [Case("GET", ADMIN, kwargs=TEAM)],
    "invitations/<str:key>/": [
        Case("GET", PERSONAL, kwargs={"key": lambda world: world["invitation"].key})
    ],
    # --- the status page (public) and operations (operators) -----------------------------------
    "status": [Case("GET", PUBLIC)],
    "status/badge/<slug:slug>.svg": Exempt("a public status badge per service"),
    "status/subscribe": Exempt("public: anyone may subscribe an address to status emails"),
    "status/subscribe/<str:token>": Exempt("public: confirms a subscription by emailed token"),
    "status/unsubscribe/<str:token>": Exempt("public: ends a subscription by emailed token"),
    "api/status/services": [Case("GET", PUBLIC)],
    "api/status/metrics": [Case("GET", PUBLIC)],
    "api/status/history": [Case("GET", PUBLIC)],
    "api/status/incidents": [Case("GET", PUBLIC)],
    "operations/": [Case("GET", OPERATOR)],
    "operations/incidents": [Case("POST", OPERATOR, data={"title": "Slow builds"})],
    "operations/incidents/<int:pk>": [Case("POST", OPERATOR, kwargs={"pk": 1})],
    "operations/processes/<slug:name>/restart": [Case("POST", OPERATOR, kwargs={"name": "web"})],
    "api/server/stats": [Case("GET", OPERATOR)],
    "api/containers": [Case("GET", OPERATOR)],
    "api/containers/<slug:pk>/restart": [Case("POST", OPERATOR, kwargs={"pk": "web"})],
    "api/admin/monitoring": [Case("GET", OPERATOR)],
    "operations/users/": [Case("GET", OPERATOR), Case("GET", OPERATOR, query="q=a&status=active")],
    "operations/sites/": [Case("GET", OPERATOR), Case("GET", OPERATOR, query="q=a&status=online")],
    "operations/transactions/": [
        Case("GET", OPERATOR),
        Case("GET", OPERATOR, query="type=charge&since=2026-01-01"),
    ],
    "operations/users/<uuid:pk>/": [Case("GET", OPERATOR, kwargs={"pk": "carol"})],
    "operations/users/<uuid:pk>/suspend": [Case("POST", OPERATOR, kwargs={"pk": "carol"})],
    "operations/users/<uuid:pk>/unsuspend": [Case("POST", OPERATOR, kwargs={"pk": "carol"})],
    "api/admin/users": [Case("GET", OPERATOR), Case("GET", OPERATOR, query="search=a&limit=5")],
    "api/admin/users/<uuid:pk>/sites": [Case("GET", OPERATOR, kwargs={"pk": "carol"})],
    "api/admin/users/<uuid:pk>/suspend": [Case("POST", OPERATOR, kwargs={"pk": "carol"})],
    "api/admin/users/<uuid:pk>/unsuspend": [Case("POST", OPERATOR, kwargs={"pk": "carol"})],
    # --- analytics (the current team's history) -----------------------------------------------
    "analytics/": [Case("GET", VIEWER), Case("GET", VIEWER, query="period=7&tab=traffic")],
    "api/analytics/metrics": [Case("GET", VIEWER, query="period=7")],
    "api/analytics/deployment-frequency": [Case("GET", VIEWER)],
    "api/analytics/success-rates": [Case("GET", VIEWER)],
    "api/analytics/build-durations": [Case("GET", VIEWER)],
    "api/analytics/resource-usage": [Case("GET", VIEWER)],
    "api/analytics/deployment-status": [Case("GET", VIEWER)],
    "api/analytics/hourly-deployments": [Case("GET", VIEWER)],
    "api/analytics/dora": [Case("GET", VIEWER, query="period=90")],
    "api/analytics/traffic": [Case("GET", VIEWER)],
    # --- the API: accounts ---------------------------------------------------------------------
    "api/auth/signup": Exempt("creates an account; no one is signed in"),
    "api/auth/register": Exempt("creates an account; no one is signed in"),
    "api/auth/login": Exempt("signs a person in; no one is signed in yet"),
    "api/v1/auth/login": Exempt("signs a person in; no one is signed in yet"),
    "api/auth/refresh": Exempt("exchanges a refresh token; no session"),
    "api/auth/forgot-password": Exempt("password reset by email; no one is signed in"),
    "api/auth/reset-password": Exempt("password reset by email; no one is signed in"),
    "api/auth/logout": [Case("POST", PERSONAL)],
    "api/auth/session": [Case("GET", PERSONAL)],
    "api/user/profile": [
        Case("GET", PERSONAL),
        Case("PUT", PERSONAL, data={"name": "Put Name"}),
        Case("PATCH", PERSONAL, data={"name": "Patched"}),
    ],
    "api/user/preferences": [
        Case("GET", PERSONAL),
        Case("PUT", PERSONAL, data={"theme": "dark"}),
        Case("PATCH", PERSONAL, data={"theme": "light"}),
    ],
    "api/user/account": [Case("DELETE", PERSONAL, data={"password": "wrong"}, ok=(422,))],
    "api/user/email": [
        Case("POST", PERSONAL, data={"email": "new@example.com", "password": PASSWORD})
    ],
    "api/user/email/confirm": [Case("POST", PERSONAL, data={"key": "not-a-key"}, ok=(422,))],
    "api/user/tokens": [
        Case("GET", PERSONAL),
        Case("POST", PERSONAL, data={"name": "CI", "password": PASSWORD}),
    ],
    "api/user/tokens/<uuid:pk>": [Case("DELETE", PERSONAL, kwargs={"pk": "own_token"})],
    "api/user/sessions": [Case("GET", PERSONAL)],
    "api/user/sessions/<uuid:pk>": [Case("DELETE", PERSONAL, kwargs={"pk": "own_token"})],
    "api/security/logs": [Case("GET", PERSONAL)],
    # --- the API: sites, files, deployments of sites -------------------------------------------
    "api/hosting/spaces": [
        Case("GET", VIEWER),
        Case("POST", DEVELOPER, data={"name": "Space", "slug": "acme-space"}),
    ],
    "api/sites": [
        Case("GET", VIEWER),
        Case("POST", DEVELOPER, data={"name": "Site", "slug": "acme-site"}),
    ],
    "api/sites/create": [Case("POST", DEVELOPER, data={"name": "Made", "slug": "acme-made"})],
    # The world's WordPress site has no files here: changes reach the service, which says so.
    "api/sites/<uuid:pk>/wordpress": [
        Case("GET", VIEWER, kwargs=WP_SITE),
        Case("PATCH", DEVELOPER, kwargs=WP_SITE, data={"debug": True}, ok=(502,)),
    ],
    # Already at the package's version: the service answers so.
    "api/sites/<uuid:pk>/wordpress/update": [Case("POST", DEVELOPER, kwargs=WP_SITE, ok=(409,))],
    "api/sites/<uuid:pk>/wordpress/password": [
        Case("POST", DEVELOPER, kwargs=WP_SITE, data={"password": "a-long-new-password"}, ok=(502,))
    ],
    "api/sites/<uuid:pk>/wordpress/start": [Case("POST", DEVELOPER, kwargs=WP_SITE, ok=(502,))],
    "api/sites/<uuid:pk>/wordpress/stop": [Case("POST", DEVELOPER, kwargs=WP_SITE, ok=(502,))],
    "api/sites/<uuid:pk>/wordpress/login": [Case("POST", DEVELOPER, kwargs=WP_SITE)],
    "api/sites/<uuid:pk>/backups": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("POST", DEVELOPER, kwargs=SITE),
    ],
    "api/sites/<uuid:pk>/backups/schedule": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("PUT", DEVELOPER, kwargs=SITE, data={"frequency": "weekly", "hour": 4, "weekday": 6}),
    ],
    "api/sites/<uuid:pk>/backups/<uuid:backup_id>": [
        Case("GET", VIEWER, kwargs=BACKUP),
        Case("DELETE", DEVELOPER, kwargs=BACKUP),
    ],
    "api/sites/<uuid:pk>/backups/<uuid:backup_id>/restore": [
        Case("POST", DEVELOPER, kwargs=BACKUP)
    ],
    "api/sites/<uuid:pk>/backups/<uuid:backup_id>/download": [
        Case("GET", DEVELOPER, kwargs=BACKUP, ok=(409,))
    ],
    "api/sites/<uuid:pk>/restores/<uuid:restore_id>": [Case("GET", VIEWER, kwargs=RESTORE)],
    "api/hosting/spaces/<uuid:pk>": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("PATCH", DEVELOPER, kwargs=SITE, data={"name": "Patched"}),
        Case("DELETE", DEVELOPER, kwargs=SITE),
    ],
    "api/sites/<uuid:pk>": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("PATCH", DEVELOPER, kwargs=SITE, data={"name": "Patched"}),
        Case("DELETE", DEVELOPER, kwargs=SITE),
    ],
    "api/hosting/spaces/<uuid:pk>/files": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("POST", DEVELOPER, kwargs=SITE, data=upload, multipart=True),
        Case("PATCH", DEVELOPER, kwargs=SITE, data={"path": "about.html", "name": "us.html"}),
        Case("DELETE", DEVELOPER, kwargs=SITE, query="path=about.html"),
    ],
    "api/hosting/spaces/<uuid:pk>/files/<path:path>": [
        Case("GET", VIEWER, kwargs={"pk": "site", "path": "index.html"}),
        Case("POST", DEVELOPER, kwargs={"pk": "site", "path": "docs"}, data=upload, multipart=True),
        Case("PATCH", DEVELOPER, kwargs={"pk": "site", "path": "about.html"}, data={"name": "x"}),
        Case("DELETE", DEVELOPER, kwargs={"pk": "site", "path": "about.html"}),
    ],
    "api/hosting/spaces/<uuid:pk>/folders": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"path": "assets"})
    ],
    "api/hosting/spaces/<uuid:pk>/deploy": [Case("POST", DEVELOPER, kwargs=SITE)],
    "api/hosting/spaces/<uuid:pk>/deployments": [Case("GET", VIEWER, kwargs=SITE)],
    "api/deployments/<uuid:pk>/rollback": [Case("POST", DEVELOPER, kwargs=DEPLOYMENT)],
    "api/deployments/<uuid:pk>/promote": [Case("POST", DEVELOPER, kwargs=DEPLOYMENT)],
    "api/sites/<uuid:pk>/deploys": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"files": {"index.html": "0" * 64}})
    ],
    "api/deployments/<uuid:pk>/blobs": [
        Case(
            "POST",
            DEVELOPER,
            kwargs={"pk": uploading_deployment},
            data={_sha256(b"{}"): b"{}"},
            multipart=True,
        )
    ],
    "api/deployments/<uuid:pk>/blobs/<str:digest>": [
        Case("PUT", DEVELOPER, kwargs={"pk": uploading_deployment, "digest": _sha256(b"{}")})
    ],
    "api/deployments/<uuid:pk>/publish": [
        Case("POST", DEVELOPER, kwargs={"pk": publishable_deployment})
    ],
    "api/sites/<uuid:pk>/previews": [Case("GET", VIEWER, kwargs=SITE)],
    "api/sites/<uuid:pk>/previews/<str:name>": [
        Case("DELETE", DEVELOPER, kwargs={"pk": "site", "name": site_preview})
    ],
    # --- the editor (pages) ----------------------------------------------------------------------
    "sites/<uuid:pk>/pages/": [Case("GET", VIEWER, kwargs=SITE)],
    "sites/<uuid:pk>/pages/new/": [Case("POST", DEVELOPER, kwargs=SITE, data={"title": "New"})],
    "sites/<uuid:pk>/pages/template/": [
        Case("POST", DEVELOPER, kwargs=SITE, data={"template": "coming-soon"})
    ],
    "sites/<uuid:pk>/pages/publish/": [Case("POST", DEVELOPER, kwargs={"pk": site_with_pages})],
    "pages/<uuid:pk>/edit/": [Case("GET", VIEWER, kwargs=EDITOR_PAGE)],
    "pages/<uuid:pk>/settings/": [
        Case("GET", DEVELOPER, kwargs=EDITOR_PAGE),
        Case("POST", DEVELOPER, kwargs=EDITOR_PAGE, data={"title": "Start", "slug": "start"}),
    ],
    "pages/<uuid:pk>/duplicate/": [Case("POST", DEVELOPER, kwargs=EDITOR_PAGE)],
    "pages/<uuid:pk>/home/": [Case("POST", DEVELOPER, kwargs=EDITOR_PAGE)],
    "pages/<uuid:pk>/delete/": [Case("POST", DEVELOPER, kwargs=EDITOR_PAGE)],
    "pages/<uuid:pk>/preview/": [Case("GET", VIEWER, kwargs=EDITOR_PAGE)],
    "pages/<uuid:pk>/revisions/": [Case("GET", VIEWER, kwargs=EDITOR_PAGE)],
    "pages/<uuid:pk>/revisions/<int:number>/restore/": [
        Case("POST", DEVELOPER, kwargs=EDITOR_REVISION)
    ],
    # --- the API: the editor -------------------------------------------------------------------
    "api/editor/templates": [Case("GET", PERSONAL)],
    "api/editor/templates/<slug:slug>": [Case("GET", PERSONAL, kwargs={"slug": "landing"})],
    "api/editor/sites/<uuid:pk>/pages": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("POST", DEVELOPER, kwargs=SITE, data={"title": "Pricing"}),
    ],
    "api/editor/sites/<uuid:pk>/assets": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("POST", DEVELOPER, kwargs=SITE, data=editor_image, multipart=True),
    ],
    "api/editor/sites/<uuid:pk>/publish": [Case("POST", DEVELOPER, kwargs={"pk": site_with_pages})],
    "api/editor/pages/<uuid:pk>": [
        Case("GET", VIEWER, kwargs=EDITOR_PAGE),
        Case("PATCH", DEVELOPER, kwargs=EDITOR_PAGE, data={"title": "Start"}),
        Case("DELETE", DEVELOPER, kwargs=EDITOR_PAGE),
    ],
    "api/editor/pages/<uuid:pk>/duplicate": [Case("POST", DEVELOPER, kwargs=EDITOR_PAGE)],
    "api/editor/pages/<uuid:pk>/document": [
        Case("GET", VIEWER, kwargs=EDITOR_PAGE),
        Case("PUT", DEVELOPER, kwargs=EDITOR_PAGE, data=EDITOR_DOCUMENT),
    ],
    "api/editor/pages/<uuid:pk>/revisions": [Case("GET", VIEWER, kwargs=EDITOR_PAGE)],
    "api/editor/pages/<uuid:pk>/revisions/<int:number>": [
        Case("GET", VIEWER, kwargs=EDITOR_REVISION)
    ],
    "api/editor/pages/<uuid:pk>/revisions/<int:number>/restore": [
        Case("POST", DEVELOPER, kwargs=EDITOR_REVISION)
    ],
    "api/editor/pages/<uuid:pk>/preview": [Case("GET", VIEWER, kwargs=EDITOR_PAGE)],
    # --- the API: git deployments, dashboard, GitHub ---------------------------------------------
    "api/deployments": [
        Case("GET", VIEWER),
        Case(
            "POST",
            DEVELOPER,
            data={"repository": "https://git.example/acme/other.git", "branch": "main"},
            ok=(422,),  # git.example does not resolve: the call reached the repository check
        ),
    ],
    "api/deployments/recent": [Case("GET", VIEWER)],
    "api/deployments/<uuid:pk>": [
        Case("GET", VIEWER, kwargs=DEPLOYMENT),
        Case("DELETE", DEVELOPER, kwargs=DEPLOYMENT),
    ],
    "api/deployments/<uuid:pk>/logs": [Case("GET", VIEWER, kwargs=DEPLOYMENT)],
    "api/deployments/<uuid:pk>/cancel": [
        Case("POST", DEVELOPER, kwargs={"pk": "queued_deployment"})
    ],
    "api/deployments/<uuid:pk>/redeploy": [
        Case("POST", DEVELOPER, kwargs={"pk": "queued_deployment"})
    ],
    "api/dashboard/stats": [Case("GET", VIEWER)],
    "api/repositories/branches": [
        Case("GET", PERSONAL, query="repository=https://git.example/acme/app.git", ok=(422,))
    ],
    "api/repositories/detect": [
        Case("GET", PERSONAL, query="repository=https://git.example/acme/app.git", ok=(422,))
    ],
    "api/projects/<uuid:pk>/deploy": [Case("POST", DEVELOPER, kwargs={"pk": "project"})],
    "api/projects/<uuid:pk>/cache/clear": [Case("POST", DEVELOPER, kwargs={"pk": "project"})],
    "api/sites/<uuid:pk>/deploy-latest": [Case("POST", DEVELOPER, kwargs={"pk": "app_site"})],
    "api/github/connection": [Case("GET", PERSONAL)],
    "api/github/connection-status": [Case("GET", PERSONAL)],
    "api/github/connect": [Case("POST", PERSONAL, ok=NEEDS_GITHUB)],
    "api/github/disconnect": [Case("POST", PERSONAL), Case("DELETE", PERSONAL)],
    "api/github/repos": [Case("GET", PERSONAL, ok=(409, 422, 503))],
    "api/github/repos/<path:repo>/branches": [
        Case("GET", PERSONAL, kwargs={"repo": "acme/app"}, ok=(409, 422, 503))
    ],
    # --- the API: teams, members, invitations, audit -------------------------------------------
    "api/teams": [Case("GET", PERSONAL), Case("POST", PERSONAL, data={"name": "Side project"})],
    "api/teams/<uuid:pk>": [
        Case("GET", VIEWER, kwargs=TEAM),
        Case("PATCH", ADMIN, kwargs=TEAM, data={"name": "Acme Inc", "requireTwoFactor": False}),
        Case("DELETE", OWNER, kwargs=TEAM, data={"confirm": "Acme"}),
    ],
    "api/teams/<uuid:pk>/switch": [Case("POST", VIEWER, kwargs=TEAM)],
    # The only owner may not leave (422, transfer first); everyone else leaves.
    "api/teams/<uuid:pk>/leave": [Case("POST", VIEWER, kwargs=TEAM, ok=(422,))],
    "api/teams/<uuid:pk>/transfer": [
        Case("POST", OWNER, kwargs=TEAM, data=lambda world: {"userId": str(world["carol"].pk)})
    ],
    "api/teams/<uuid:pk>/members": [Case("GET", VIEWER, kwargs=TEAM)],
    "api/teams/<uuid:pk>/members/<uuid:user_pk>": [
        Case("PATCH", ADMIN, kwargs=CAROL, data={"role": "developer"}),
        Case("DELETE", ADMIN, kwargs=CAROL),
    ],
    "api/teams/<uuid:pk>/invitations": [
        Case("GET", VIEWER, kwargs=TEAM),
        Case("POST", ADMIN, kwargs=TEAM, data={"email": "fred@example.com", "role": "viewer"}),
    ],
    "api/teams/<uuid:pk>/invitations/<uuid:invitation_pk>": [
        Case("DELETE", ADMIN, kwargs=INVITATION)
    ],
    "api/teams/<uuid:pk>/invitations/<uuid:invitation_pk>/resend": [
        Case("POST", ADMIN, kwargs=INVITATION)
    ],
    "api/teams/<uuid:pk>/audit": [Case("GET", ADMIN, kwargs=TEAM)],
    # The emailed link: anyone holding it reads it; it is Erin's, so others' answers are refused.
    "api/invitations/<str:key>": [Case("GET", PERSONAL, kwargs={"key": INVITATION_KEY})],
    "api/invitations/<str:key>/accept": [
        Case("POST", PERSONAL, kwargs={"key": INVITATION_KEY}, ok=(422,))
    ],
    "api/invitations/<str:key>/decline": [
        Case("POST", PERSONAL, kwargs={"key": INVITATION_KEY}, ok=(422,))
    ],
    # --- the API: domains, DNS, certificates ---------------------------------------------------
    "api/domains": [
        Case("GET", VIEWER),
        Case("POST", ADMIN, data={"name": "outside.example"}),
    ],
    "api/domains/check": [Case("GET", PERSONAL, query="name=brand")],
    "api/domains/<uuid:pk>": [
        Case("GET", VIEWER, kwargs=DOMAIN),
        Case("PUT", ADMIN, kwargs=DOMAIN, data={"autoRenew": False}),
        Case("PATCH", ADMIN, kwargs=DOMAIN, data={"autoRenew": False}),
        Case("DELETE", ADMIN, kwargs={"pk": "external_domain"}),
    ],
    "api/domains/<uuid:pk>/renew": [Case("POST", ADMIN, kwargs=DOMAIN, data={"years": 1})],
    "api/domains/<uuid:pk>/verify": [Case("POST", ADMIN, kwargs=DOMAIN)],
    "api/domains/<uuid:pk>/dns": [Case("POST", ADMIN, kwargs=DOMAIN)],
    "api/domains/<uuid:pk>/records": [
        Case("GET", VIEWER, kwargs=DOMAIN),
        Case(
            "POST",
            DEVELOPER,
            kwargs=DOMAIN,
            data={"name": "api", "type": "A", "content": "192.0.2.1", "ttl": 3600},
        ),
    ],
    "api/domains/<uuid:pk>/records/<uuid:record_id>": [
        Case("GET", VIEWER, kwargs=RECORD),
        Case("PUT", DEVELOPER, kwargs=RECORD, data={"ttl": 600}),
        Case("PATCH", DEVELOPER, kwargs=RECORD, data={"ttl": 900}),
        Case("DELETE", DEVELOPER, kwargs=RECORD),
    ],
    "api/sites/<uuid:pk>/ssl": [
        Case("GET", VIEWER, kwargs=SITE),
        Case("POST", ADMIN, kwargs=SITE, ok=(409, 422, 503)),
    ],
}
