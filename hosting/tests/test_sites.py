"""Site pages and services: list with real usage, create with live address check, settings,
offline/online, delete; alice owns, bob and charlie get 404."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from deployments.services import deployment_publish
from deployments.tests.factories import files
from hosting import services
from hosting.files.uploads import files_upload
from hosting.models import Site, SiteBandwidth
from hosting.tests.conftest import upload

pytestmark = pytest.mark.django_db


def test_sites_nav_entry_resolves_to_the_list(web):
    assert reverse("hosting:site-list") == "/sites/"
    page = web.get("/dashboard/")
    assert b'href="/sites/"' in page.content


def test_empty_list_invites_creating_a_site(web):
    page = web.get("/sites/")
    assert page.status_code == 200
    assert "No sites yet" in page.text and reverse("hosting:site-create") in page.text


def test_list_shows_status_url_usage_and_last_deploy(web, alice, settings):
    settings.SITES_DOMAIN = "example.test"
    site = services.site_create(owner=alice, name="Docs", slug="docs")
    Site.objects.filter(pk=site.pk).update(storage_used=512 * 1024)
    today = timezone.localdate()
    SiteBandwidth.objects.create(site=site, day=today.replace(day=1), bytes_sent=3 * 1024**2)
    if today.day != 1:
        SiteBandwidth.objects.create(site=site, day=today, bytes_sent=2 * 1024**2, requests=7)
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    SiteBandwidth.objects.create(site=site, day=last_month, bytes_sent=10**12)
    page = web.get("/sites/")
    html = page.text
    assert "docs.example.test" in html and "No deployment yet" in html
    assert "512.0\xa0KB of 1.0\xa0GB" in html
    expected = "5.0\xa0MB" if today.day != 1 else "3.0\xa0MB"
    assert f"{expected} of 100.0\xa0GB" in html  # only this month's rows count
    assert "Not deployed yet" in html

    from deployments.services import deployment_publish

    deployment_publish(site=site, files=files({"index.html": b"x"}), source="upload")
    html = web.get("/sites/").text
    assert "Online · deployed" in html


def test_list_shows_zero_usage_honestly(web, alice):
    services.site_create(owner=alice, name="Fresh")
    html = web.get("/sites/").text
    assert "0\xa0bytes of 1.0\xa0GB" in html and "0\xa0bytes of 100.0\xa0GB" in html


def test_a_site_deployed_from_a_folder_elsewhere_counts_its_live_deployment(web, api, alice):
    # What the command-line client does: the files never pass through the file manager.
    site = services.site_create(owner=alice, name="From CLI")
    deployment_publish(site=site, files=files({"index.html": b"x" * 300}), source="upload")
    html = web.get("/sites/").text
    assert "300\xa0bytes of 1.0\xa0GB" in html
    assert api.get(f"/api/sites/{site.pk}").json()["storage"]["used"] == 300
    # Once it has working files of its own, those are what it stores.
    files_upload(site=site, uploads=[upload("a.txt", b"12345")])
    assert api.get(f"/api/sites/{site.pk}").json()["storage"]["used"] == 5


def test_list_query_count_does_not_grow_with_sites(web, alice, django_assert_max_num_queries):
    for i in range(12):
        site = services.site_create(owner=alice, name=f"Site {i}")
        SiteBandwidth.objects.create(site=site, day=timezone.localdate(), bytes_sent=i)
    with django_assert_max_num_queries(9):  # one of them: the user's teams, for the switcher
        page = web.get("/sites/")
    assert page.text.count('class="card site-card"') == 12


def test_list_shows_only_your_sites(client, alice, bob):
    services.site_create(owner=alice, name="Alice Site", slug="alice-site")
    services.site_create(owner=bob, name="Bob Site", slug="bob-site")
    client.force_login(bob)
    html = client.get("/sites/").text
    assert "Bob Site" in html and "Alice Site" not in html


def test_create_site_in_the_browser(web, alice):
    page = web.post("/sites/new/", {"name": "My Blog!", "slug": ""})
    site = Site.objects.get(owner=alice)
    assert site.slug == "my-blog" and site.status == Site.Status.PROVISIONING
    assert page.status_code == 302 and page.url == reverse("hosting:site-files", args=[site.pk])


def test_create_refuses_bad_taken_and_reserved_addresses(web, bob):
    services.site_create(owner=bob, name="Taken", slug="taken")
    for slug, message in [
        ("Bad_Slug!", "lower-case"),
        ("taken", "taken"),
        ("admin", "reserved"),
        ("-edge", "lower-case"),
    ]:
        page = web.post("/sites/new/", {"name": "Mine", "slug": slug})
        assert page.status_code == 422, slug
        assert message in page.text.lower(), slug
        assert "already exists" not in page.text, slug  # one friendly message, not Django's
    assert Site.objects.count() == 1


def test_a_taken_address_gets_one_friendly_message_with_a_suggestion(bob, alice):
    services.site_create(owner=bob, name="Taken", slug="taken")
    with pytest.raises(ValidationError) as refused:
        services.site_create(owner=alice, name="Mine", slug="taken")
    assert refused.value.message_dict == {"slug": ["“taken” is taken; try “taken-2”."]}


def test_address_check_answers_live(web, bob):
    services.site_create(owner=bob, name="Blog", slug="blog")
    url = reverse("hosting:address-check")
    assert web.get(url, {"name": "Blog"}).json()["suggestion"] == "blog-2"
    answer = web.get(url, {"name": "Blog", "slug": "blog"}).json()
    assert answer["available"] is False and answer["suggestion"] == "blog-2"
    assert web.get(url, {"slug": "fresh-one"}).json()["available"] is True
    assert web.get(url, {"slug": "No Way"}).json()["available"] is False
    assert web.get(url, {"slug": "www"}).json()["available"] is False


def test_detail_tabs_render(web, site, alice):
    from hosting.files.uploads import files_upload

    files_upload(site=site, uploads=[upload("index.html", b"<h1>hi</h1>")])
    services.site_deploy(site=site, author=alice)
    SiteBandwidth.objects.create(site=site, day=timezone.localdate(), bytes_sent=2048, requests=3)
    for name in ("site-detail", "site-files", "site-deployments", "site-settings"):
        page = web.get(reverse(f"hosting:{name}", args=[site.pk]))
        assert page.status_code == 200, name
        assert site.hostname in page.text
    overview = web.get(reverse("hosting:site-detail", args=[site.pk])).text
    assert "2.0\xa0KB" in overview and "Online" in overview


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_other_users_get_404_everywhere(client, site, who, request):
    client.force_login(request.getfixturevalue(who))
    pk = site.pk
    for name in ("site-detail", "site-files", "site-deployments", "site-settings"):
        assert client.get(reverse(f"hosting:{name}", args=[pk])).status_code == 404
    for name in ("site-deploy", "site-status", "site-delete", "files-upload", "path-delete"):
        assert client.post(reverse(f"hosting:{name}", args=[pk]), {"path": "x"}).status_code == 404
    assert client.get(reverse("hosting:file-download", args=[pk])).status_code == 404
    assert Site.objects.filter(pk=pk, status=Site.Status.PROVISIONING).exists()


def test_anonymous_users_are_sent_to_sign_in(client, site):
    page = client.get(reverse("hosting:site-detail", args=[site.pk]))
    assert page.status_code == 302 and "/accounts/login/" in page.url


def test_rename_keeps_the_address(web, site):
    page = web.post(reverse("hosting:site-settings", args=[site.pk]), {"name": "  New name "})
    assert page.status_code == 302
    site.refresh_from_db()
    assert site.name == "New name" and site.slug == "alice-docs"
    assert (
        web.post(reverse("hosting:site-settings", args=[site.pk]), {"name": ""}).status_code == 422
    )


def test_take_offline_and_back(web, site, alice, django_capture_on_commit_callbacks):
    from hosting.hostnames import hostnames_changed

    seen = []

    def receiver(sender, site_id, **kwargs):
        seen.append(site_id)

    hostnames_changed.connect(receiver)
    try:
        url = reverse("hosting:site-status", args=[site.pk])
        with django_capture_on_commit_callbacks(execute=True):
            web.post(url, {"action": "offline"})
        site.refresh_from_db()
        assert site.status == Site.Status.OFFLINE and seen == [site.pk]
        web.post(url, {"action": "online"})
        site.refresh_from_db()
        assert site.status == Site.Status.PROVISIONING  # nothing deployed yet
        web.post(url, {"action": "offline"})
        from deployments.services import deployment_publish

        deployment_publish(site=site, files=files({"index.html": b"x"}), source="upload")
        site.refresh_from_db()
        assert site.status == Site.Status.OFFLINE  # deploying does not undo the owner's choice
        web.post(url, {"action": "online"})
        site.refresh_from_db()
        assert site.status == Site.Status.ONLINE
    finally:
        hostnames_changed.disconnect(receiver)


def test_delete_has_typed_confirmation_and_removes_everything(
    web, site, alice, django_capture_on_commit_callbacks
):
    from hosting.files.backends import tree_for
    from hosting.files.uploads import files_upload

    files_upload(site=site, uploads=[upload("index.html", b"<p>bye</p>")])
    services.site_deploy(site=site, author=alice)
    settings_page = web.get(reverse("hosting:site-settings", args=[site.pk])).text
    assert f'data-confirm-text="{site.slug}"' in settings_page
    with django_capture_on_commit_callbacks(execute=True):
        page = web.post(reverse("hosting:site-delete", args=[site.pk]))
    assert page.status_code == 302 and page.url == "/sites/"
    assert not Site.objects.filter(pk=site.pk).exists()
    assert list(tree_for(site.pk).walk("")) == []
