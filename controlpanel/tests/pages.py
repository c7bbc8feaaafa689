"""Every HTML page of the panel, with data behind it, for the tests that walk them all in Chromium.

``sample_account`` gives a user what a few weeks of use would: sites with files and deployments
(live, failed, rolled back), a git project, a registered domain with a hosted zone, an external
domain waiting for DNS, API tokens, a security log, and an incident on the status page.
``html_pages`` walks the URL patterns and answers every page that a signed-in GET renders as
HTML; a pattern with parameters and no sample here fails the walk, so a new page cannot be left
out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings as django_settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

# Not the panel's own HTML pages: the API, the Django admin, avatars, and the OAuth hand-offs
# that redirect to GitHub and Google.
NOT_PAGES = ("api/", "admin/", "^media/", "health", "accounts/github/", "accounts/google/")
LONG = "a-rather-long-name-that-a-phone-has-to-wrap"


@dataclass
class Sample:
    user: object
    site: object
    empty_site: object
    deployment: object
    failed: object
    project: object
    registered: object
    external: object
    record: object
    token: object
    session: object
    incident: object
    subscriber: object
    wordpress: list

    @property
    def reset_key(self) -> str:
        """A password-reset link's key, valid until the user next signs in."""
        from allauth.account.forms import default_token_generator
        from allauth.account.utils import user_pk_to_url_str

        self.user.refresh_from_db()
        return f"{user_pk_to_url_str(self.user)}-{default_token_generator.make_token(self.user)}"


def sample_account(user) -> Sample:
    """Sites, files, deployments, a project, domains, DNS records and tokens for ``user``."""
    from django.conf import settings

    from accounts.models import BrowserSession
    from accounts.services import personal_token_create, security_event_record
    from deployments.logs import log_append
    from deployments.models import Deployment
    from deployments.projects import RepositorySource, project_save
    from deployments.services import deployment_publish
    from deployments.tests.factories import files as directory_files_of
    from domains import zones
    from domains.services import domain_add
    from domains.tests.factories import register_domain
    from hosting.files.operations import folder_create, text_save
    from hosting.models import SiteBandwidth, SitePathDay, SiteStatusDay
    from hosting.services import site_create, site_deploy, site_preview_protection_set
    from monitoring.services import incident_create, services_sync, subscriber_add
    from wordpress.tests.factories import wordpress_site_make

    settings.BERTH_REGISTRY_TLDS = {"test": "12.00"}
    site = site_create(owner=user, name="A rather long site name for phones")
    text_save(site=site, path="index.html", content="<h1>Hello</h1>\n")
    text_save(site=site, path=f"{LONG}.html", content="<p>long</p>\n")
    folder_create(site=site, folder="", name="assets")
    text_save(site=site, path="assets/site.css", content="body{margin:0}\n")
    first = site_deploy(site=site, author=user)
    text_save(site=site, path="index.html", content="<h1>Hello again</h1>\n")
    live = site_deploy(site=site, author=user)
    # Its previews behind a password: the unlock page shows its form.
    site_preview_protection_set(site=site, protection="password", password="a sample password")
    now = timezone.now()
    failed = Deployment.objects.create(
        site=site,
        author=user,
        source=Deployment.Source.GIT,
        status=Deployment.Status.FAILED,
        branch="feature/a-branch-name-long-enough-to-wrap-on-phones",
        commit_hash="a7f8c9d" + "0" * 33,
        commit_message="Make the landing page say hello to everyone who visits it on a phone",
        commit_author="Ada Lovelace",
        error="Build command exited with status 1: npm ERR! missing script: build",
        started_at=now - timedelta(minutes=3),
        finished_at=now - timedelta(minutes=2),
        build_duration=58,
    )
    log_append(failed.pk, "$ npm run build")
    log_append(failed.pk, "npm ERR! missing script: build " + "x" * 120, "error")
    assert first.pk != live.pk

    project = project_save(
        user=user,
        source=RepositorySource(
            name="marketing-site",
            repository=f"https://git.example.org/acme/{LONG}.git",
            clone_url=f"https://git.example.org/acme/{LONG}.git",
        ),
        branch="main",
        build_command="npm ci && npm run build -- --mode production",
        output_dir="dist",
        env_vars=f"API_URL=https://api.example.org/{LONG}\nTOKEN=secret",
    )
    built = deployment_publish(
        site=project.site,
        files=directory_files_of({"index.html": b"<h1>Built</h1>", f"assets/{LONG}.js": b"1"}),
        source=Deployment.Source.GIT,
        author=user,
    )
    Deployment.objects.filter(pk=built.pk).update(
        project=project,
        branch="main",
        commit_hash="b" * 40,
        commit_message="Build it",
        build_duration=74,
    )
    # A few days of visits, as the site servers count them (the analytics traffic tab).
    for days_ago, sent, requests in ((0, 48_213, 37), (1, 1_204_551, 903), (5, 9_876, 12)):
        day = now.date() - timedelta(days=days_ago)
        SiteBandwidth.objects.create(site=site, day=day, bytes_sent=sent, requests=requests)
        SiteStatusDay.objects.create(site=site, day=day, status=200, requests=requests - 2)
        SiteStatusDay.objects.create(site=site, day=day, status=404, requests=2)
        SitePathDay.objects.create(
            site=site, day=day, path="/", requests=requests - 2, bytes_sent=sent
        )
        SitePathDay.objects.create(site=site, day=day, path=f"/{LONG}/{LONG}.html", requests=2)
    empty_site = site_create(owner=user, name="Empty")
    editor_pages_add(site=site, user=user)
    wordpress = [
        wordpress_site_make(owner=user, name=f"WordPress blog ({state})", state=state)
        for state in ("online", "provisioning", "error")
    ]

    registered = register_domain(user, f"{LONG}.test")  # confirmed and paid, as a customer does
    record = zones.record_create(
        domain=registered,
        name="_dmarc",
        type="TXT",
        content="v=DMARC1; p=quarantine; rua=mailto:postmaster@" + registered.name,
    )
    external = domain_add(owner=user, name=f"shop.{LONG}.example.org", site=site)

    token = personal_token_create(user=user, name="Deploy script on the build server").token
    security_event_record(kind="login", user=user, details={"method": "password"})
    session = BrowserSession.objects.create(
        user=user, session_key="x" * 32, user_agent="Mozilla/5.0 (iPhone) Safari/604.1"
    )
    services_sync()
    incident = incident_create(
        title="Builds wait longer than usual while a worker restarts after a very long night",
        message="We are looking into it.",
        author=user,
    )
    subscriber = subscriber_add(email="watcher@example.org")
    return Sample(
        user=user,
        site=site,
        empty_site=empty_site,
        deployment=first,
        failed=failed,
        project=project,
        registered=registered,
        external=external,
        record=record,
        token=token,
        session=session,
        incident=incident,
        subscriber=subscriber,
        wordpress=wordpress,
    )


def samples(data: Sample) -> dict[str, list[str]]:
    """Example addresses of each URL pattern with parameters or a query, by pattern name."""
    site, domain = data.site.pk, data.registered.pk
    return {
        "settings-tab": [
            f"/settings/{tab}/"
            for tab in (
                "profile",
                "github",
                "notifications",
                "appearance",
                "tokens",
                "sessions",
                "security",
                "account",
            )
        ],
        "token-revoke": [f"/settings/tokens/{data.token.pk}/revoke/"],
        "session-revoke": [f"/settings/sessions/{data.session.pk}/revoke/"],
        "hosting:site-detail": [
            f"/sites/{site}/",
            f"/sites/{data.empty_site.pk}/",
            f"/sites/{data.project.site_id}/",
        ],
        "hosting:site-deployments": [
            f"/sites/{site}/deployments/",
            f"/sites/{data.empty_site.pk}/deployments/",
        ],
        "hosting:site-deploy": [f"/sites/{site}/deploy/"],
        "hosting:site-rollback": [f"/sites/{site}/deployments/{data.deployment.pk}/rollback/"],
        "hosting:site-settings": [f"/sites/{site}/settings/"],
        "wordpress:detail": [f"/sites/{wp.pk}/wordpress/" for wp in data.wordpress],
        "wordpress:start": [f"/sites/{data.wordpress[0].pk}/wordpress/start/"],
        "wordpress:stop": [f"/sites/{data.wordpress[0].pk}/wordpress/stop/"],
        "wordpress:delete": [f"/sites/{data.wordpress[0].pk}/wordpress/delete/"],
        "wordpress:login": [f"/sites/{data.wordpress[0].pk}/wordpress/login/"],
        "wordpress:settings": [f"/sites/{data.wordpress[0].pk}/wordpress/settings/"],
        "wordpress:password": [f"/sites/{data.wordpress[0].pk}/wordpress/password/"],
        "wordpress:update": [f"/sites/{data.wordpress[0].pk}/wordpress/update/"],
        "hosting:site-status": [f"/sites/{site}/status/"],
        "hosting:site-preview-protection": [f"/sites/{site}/previews/protection/"],
        "hosting:preview-unlock": [
            f"/previews/unlock/?host={data.deployment.pk.hex[:8]}--{data.site.slug}"
            f".{django_settings.SITES_DOMAIN}&next=/",
        ],
        "hosting:site-delete": [f"/sites/{site}/delete/"],
        "hosting:site-files": [
            f"/sites/{site}/files/",
            f"/sites/{site}/files/?path=assets",
            f"/sites/{data.empty_site.pk}/files/",
            f"/sites/{data.project.site_id}/files/",
            f"/sites/{data.project.site_id}/files/?path=assets",
        ],
        "hosting:files-upload": [f"/sites/{site}/files/upload/"],
        "hosting:folder-create": [f"/sites/{site}/files/folder/"],
        "hosting:file-create": [f"/sites/{site}/files/new/"],
        "hosting:path-rename": [f"/sites/{site}/files/rename/"],
        "hosting:path-move": [f"/sites/{site}/files/move/"],
        "hosting:path-delete": [f"/sites/{site}/files/delete/"],
        "hosting:file-download": [f"/sites/{site}/files/download/?path=index.html"],
        "hosting:file-preview": [f"/sites/{site}/files/preview/?path=index.html"],
        "hosting:file-edit": [f"/sites/{site}/files/edit/?path=index.html"],
        "deployments:detail": [
            f"/deployments/{data.deployment.pk}/",
            f"/deployments/{data.failed.pk}/",
        ],
        "deployments:log-text": [f"/deployments/{data.failed.pk}/log.txt"],
        "deployments:cancel": [f"/deployments/{data.failed.pk}/cancel/"],
        "deployments:redeploy": [f"/deployments/{data.failed.pk}/redeploy/"],
        "deployments:delete": [f"/deployments/{data.failed.pk}/delete/"],
        "deployments:project": [f"/projects/{data.project.pk}/"],
        "deployments:project-deploy": [f"/projects/{data.project.pk}/deploy/"],
        "deployments:project-cache-clear": [f"/projects/{data.project.pk}/cache/clear/"],
        "hosting:live-file": [
            f"/sites/{data.project.site_id}/files/live/?path=index.html",
            f"/sites/{data.project.site_id}/files/live/?path=assets/{LONG}.js",
        ],
        "hosting:live-download": [
            f"/sites/{data.project.site_id}/files/live/download/?path=index.html"
        ],
        "domains:search": ["/domains/search/", "/domains/search/?q=brand"],
        "domains:register": [f"/domains/register/?name={LONG[:40]}-new.test&years=2"],
        "domains:detail": [f"/domains/{domain}/", f"/domains/{data.external.pk}/"],
        "domains:verify": [f"/domains/{domain}/verify/"],
        "domains:attach": [f"/domains/{domain}/attach/"],
        "domains:registration": [f"/domains/{domain}/registration/"],
        "domains:renew": [f"/domains/{domain}/renew/"],
        "domains:nameservers": [f"/domains/{domain}/nameservers/"],
        "domains:dns-enable": [f"/domains/{domain}/dns/enable/"],
        "domains:delete": [f"/domains/{domain}/delete/"],
        "domains:certificate-request": [f"/domains/{domain}/certificates/"],
        "domains:zone": [f"/domains/{domain}/dns/"],
        "domains:record-edit": [f"/domains/{domain}/dns/{data.record.pk}/"],
        "domains:record-delete": [f"/domains/{domain}/dns/{data.record.pk}/delete/"],
        "account_confirm_email": ["/accounts/confirm-email/not-a-key/"],
        "analytics:index": [
            "/analytics/",
            *(f"/analytics/?tab={tab}" for tab in ANALYTICS_TABS),
            f"/analytics/?period=7&site={site}",
        ],
        "operators:user-list": ["/operations/users/", "/operations/users/?q=a&status=suspended"],
        "operators:user-detail": [f"/operations/users/{data.user.pk}/"],
        "operators:user-suspend": [f"/operations/users/{data.user.pk}/suspend"],
        "operators:user-unsuspend": [f"/operations/users/{data.user.pk}/unsuspend"],
        "monitoring:badge": ["/status/badge/database.svg"],
        "monitoring:subscribe-confirm": [f"/status/subscribe/{data.subscriber.token}"],
        "monitoring:unsubscribe": [f"/status/unsubscribe/{data.subscriber.token}"],
        "monitoring:incident-update": [f"/operations/incidents/{data.incident.pk}"],
        "monitoring:restart": ["/operations/processes/web/restart"],
        "account_reset_password_from_key": [
            f"/accounts/password/reset/key/{data.reset_key}/",
        ],
        # A link whose key is not valid: the page that says so.
        "email-change-confirm": ["/settings/email/confirm/not-a-valid-key/"],
        "teams:invitation": ["/invitations/not-a-valid-key/"],
        **team_samples(data),
        **editor_samples(data),
        **billing_samples(data),
        **backups_samples(data),
    }


def backups_samples(data: Sample) -> dict[str, list[str]]:
    """The Backups tab with a checked backup, a failed one with its reason, one running, and a
    restore (rows as a worker leaves them; backups/tests runs real restic)."""
    from backups.models import Backup, Restore

    now = timezone.now()
    good = Backup.objects.create(
        site=data.site,
        state=Backup.State.SUCCEEDED,
        snapshot_id="5" * 64,
        files=14,
        size=48_213,
        started_at=now - timedelta(days=1, seconds=9),
        finished_at=now - timedelta(days=1),
        verified_at=now - timedelta(days=1),
        restorable_at=now - timedelta(hours=20),
    )
    Backup.objects.create(
        site=data.site,
        state=Backup.State.SUCCEEDED,
        snapshot_id="6" * 64,
        files=14,
        size=48_100,
        verified_at=now - timedelta(days=2),
        drill_error=f"The restored files/index.html differs from the backup's checksum ({LONG})",
        created_at=now - timedelta(days=2),
    )
    Backup.objects.create(
        site=data.site,
        type=Backup.Type.SCHEDULED,
        state=Backup.State.FAILED,
        reason=f"restic backup failed (exit 1): Fatal: unable to open config file ({LONG})",
    )
    Backup.objects.create(
        site=data.site,
        state=Backup.State.RUNNING,
        started_at=now,
        phase="uploading",
        progress_files=1_204,
        progress_bytes=48_000_000,
        total_files=3_310,
        total_bytes=120_000_000,
    )
    from backups.services import schedule_set

    schedule_set(site=data.site, frequency="weekly", hour=4, weekday=6)
    Restore.objects.create(
        backup=good, state=Restore.State.FAILED, reason="The backup before restoring failed."
    )
    site = data.site.pk
    return {
        "backups:site-backups": [
            f"/sites/{site}/backups/",
            f"/sites/{data.empty_site.pk}/backups/",
        ],
        "backups:backup-now": [f"/sites/{site}/backups/new/"],
        "backups:schedule-set": [f"/sites/{site}/backups/schedule/"],
        "backups:backup-restore": [f"/sites/{site}/backups/{good.pk}/restore/"],
        "backups:backup-restore-elsewhere": [f"/sites/{site}/backups/{good.pk}/restore-elsewhere/"],
        # No repository holds this sample's snapshot: the tab says so (after a redirect).
        "backups:backup-download": [f"/sites/{site}/backups/{good.pk}/download/"],
        "backups:backup-delete": [f"/sites/{site}/backups/{good.pk}/delete/"],
    }


def editor_pages_add(*, site, user) -> None:
    """The landing template's pages in ``site``, published once, then the home edited again."""
    from editor.selectors import template_get
    from editor.services import document_save, pages_from_template, site_publish

    home, _ = pages_from_template(site=site, template=template_get(slug="landing"), author=user)
    site_publish(site=site, author=user)
    document = home.document.replace("this afternoon", f"this afternoon ({LONG})")
    import json

    document_save(page=home, document=json.loads(document), base_revision=1, author=user)


def editor_samples(data: Sample) -> dict[str, list[str]]:
    """The editor's pages of the sample site (the landing template's home and pricing)."""
    from editor.models import Page

    site = data.site.pk
    home = Page.objects.get(site=data.site, is_home=True)
    other = Page.objects.filter(site=data.site, is_home=False).first()
    return {
        "editor:pages": [f"/sites/{site}/pages/", f"/sites/{data.empty_site.pk}/pages/"],
        "editor:page-create": [f"/sites/{site}/pages/new/"],
        "editor:template-apply": [f"/sites/{site}/pages/template/"],
        "editor:publish": [f"/sites/{site}/pages/publish/"],
        "editor:page-edit": [f"/pages/{home.pk}/edit/", f"/pages/{other.pk}/edit/"],
        "editor:page-settings": [f"/pages/{home.pk}/settings/"],
        "editor:page-duplicate": [f"/pages/{home.pk}/duplicate/"],
        "editor:page-home": [f"/pages/{other.pk}/home/"],
        "editor:page-delete": [f"/pages/{other.pk}/delete/"],
        "editor:page-preview": [
            f"/pages/{home.pk}/preview/",
            f"/pages/{home.pk}/preview/?revision=1",
        ],
        "editor:page-revisions": [f"/pages/{home.pk}/revisions/"],
        "editor:revision-restore": [f"/pages/{home.pk}/revisions/1/restore/"],
    }


def billing_samples(data: Sample) -> dict[str, list[str]]:
    """The plan-change confirmations (free, paid monthly and yearly) and an invoice of the
    user's team, issued by the built-in provider when the operator assigned a paid plan."""
    from billing.models import Invoice, Plan, Purchase
    from billing.services import plans_seed, subscription_assign
    from domains.services import domain_renew
    from teams.services import acting_team

    team = acting_team(data.user)
    invoice = Invoice.objects.for_team(team).first()
    if invoice is None:
        plans_seed()
        subscription_assign(team=team, plan=Plan.objects.get(key="standard"))
        invoice = Invoice.objects.for_team(team).get()
    # The registration (paid, done) and a renewal awaiting its invoice's payment.
    renewal = domain_renew(domain=data.registered, years=1)
    orders = [renewal, *Purchase.objects.for_team(team).exclude(pk=renewal.pk)]
    subscribe = "/billing/subscribe/"
    return {
        "billing:subscribe": [
            f"{subscribe}?plan=free",
            f"{subscribe}?plan=enterprise&interval=month",
            f"{subscribe}?plan=enterprise&interval=year",
        ],
        "billing:invoice": [f"/billing/invoices/{invoice.pk}/"],
        "billing:invoice-pdf": [f"/billing/invoices/{invoice.pk}/pdf"],
        "billing:purchase": [f"/billing/purchases/{p.pk}/" for p in orders],
        "billing:purchase-pay": [f"/billing/purchases/{orders[0].pk}/pay/"],
        "billing:purchase-cancel": [f"/billing/purchases/{orders[0].pk}/cancel/"],
    }


ANALYTICS_TABS = ("success", "durations", "resources", "traffic")


def team_samples(data: Sample) -> dict[str, list[str]]:
    """The team pages of the user's own team; the POST-only actions answer a GET with 405 and
    are left out of the walk by ``html_pages``."""
    from teams.models import Membership

    team = Membership.objects.filter(user=data.user).values_list("team_id", flat=True).first()
    other = uuid.uuid4()
    pages = {name: [f"/teams/{team}/{path}"] for name, path in TEAM_PAGES.items()}
    pages["teams:invitation-resend"] = [f"/teams/{team}/invitations/{other}/resend/"]
    pages["teams:invitation-revoke"] = [f"/teams/{team}/invitations/{other}/revoke/"]
    pages["teams:member-role"] = [f"/teams/{team}/members/{other}/role/"]
    pages["teams:member-remove"] = [f"/teams/{team}/members/{other}/remove/"]
    return pages


TEAM_PAGES = {
    "teams:detail": "",
    "teams:settings": "settings/",
    "teams:invite": "invitations/",
    "teams:leave": "leave/",
    "teams:transfer": "transfer/",
    "teams:delete": "delete/",
    "teams:audit": "audit/",
}


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, route, ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield route, name, bool(entry.pattern.regex.groupindex)


def candidate_urls(data: Sample) -> list[str]:
    """An address for every panel URL pattern (several where a page has several states)."""
    known = samples(data)
    urls, missing = [], []
    for route, name, has_params in _patterns(get_resolver()):
        if route.startswith(NOT_PAGES):
            continue
        if name in known:
            urls += known[name]
        elif has_params or "^" in route:
            missing.append(route)
        else:
            urls.append("/" + route)
    assert not missing, f"add example addresses of these URL patterns to samples(): {missing}"
    return list(dict.fromkeys(urls))


def html_pages(client: Client, data: Sample) -> list[str]:
    """The addresses that answer a GET from ``client`` with an HTML page (after redirects),
    one address per page reached."""
    pages, reached = [], set()
    for url in candidate_urls(data):
        response = client.get(url, follow=True)
        # Redirected (to the sign-in page, say): the page reached is its path without the query.
        final = response.request["PATH_INFO"] if response.redirect_chain else url
        if response.status_code != 200 or final in reached:
            continue
        attachment = response.get("Content-Disposition", "").startswith("attachment")
        if response["Content-Type"].startswith("text/html") and not attachment:
            reached.add(final)
            pages.append(url)
    return pages
