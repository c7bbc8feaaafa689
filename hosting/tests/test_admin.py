"""Operators find sites and their traffic in the admin; deleting there removes the files too."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from hosting.files.backends import tree_for
from hosting.files.uploads import files_upload
from hosting.models import Site, SiteBandwidth
from hosting.tests.conftest import upload

pytestmark = pytest.mark.django_db


def test_changelists_search_and_filter(client, operator, site):
    SiteBandwidth.objects.create(site=site, day=timezone.localdate(), bytes_sent=2048)
    client.force_login(operator)
    page = client.get(reverse("admin:hosting_site_changelist"), {"q": "alice"})
    assert page.status_code == 200 and site.slug in page.text
    page = client.get(reverse("admin:hosting_site_changelist"), {"status__exact": "offline"})
    assert site.slug not in page.text
    page = client.get(reverse("admin:hosting_sitebandwidth_changelist"), {"q": site.slug})
    assert page.status_code == 200 and "2.0\xa0KB" in page.text


def test_admin_delete_and_recount_use_the_services(
    client, operator, site, django_capture_on_commit_callbacks
):
    files_upload(site=site, uploads=[upload("index.html", b"12345")])
    Site.objects.filter(pk=site.pk).update(storage_used=1)
    client.force_login(operator)
    changelist = reverse("admin:hosting_site_changelist")
    client.post(changelist, {"action": "recount_storage", "_selected_action": [site.pk]})
    site.refresh_from_db()
    assert site.storage_used == 5
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            changelist,
            {"action": "delete_selected", "_selected_action": [site.pk], "post": "yes"},
        )
    assert not Site.objects.filter(pk=site.pk).exists()
    assert list(tree_for(site.pk).walk("")) == []


def test_the_site_page_explains_the_address_in_full(client, operator, site):
    client.force_login(operator)
    page = client.get(reverse("admin:hosting_site_change", args=[site.pk])).content.decode()
    # The admin renders help as HTML: the text must not hold anything that reads as a tag.
    shown = " ".join(strip_tags(page).split())
    assert "The site's address is this label, a dot and SITES_DOMAIN (docs.example.com)." in shown
