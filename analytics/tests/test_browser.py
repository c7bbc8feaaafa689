"""The analytics page in Chromium: every tab draws its charts with the vendored Chart.js,
under the strict CSP, at phone width, in light and dark themes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from analytics.charts import TABS
from analytics.tests.fixtures import build_history
from controlpanel.tests.browser import chromium, console_errors
from hosting.models import Site

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Pixels drawn on each canvas (a chart that failed to draw leaves it blank).
DRAWN = """
return Array.from(document.querySelectorAll("canvas")).map(function (canvas) {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i]) painted += 1;
  return [canvas.id, painted, canvas.getBoundingClientRect().width];
});
"""


def test_every_tab_draws_its_charts_on_a_phone(live_server, alice, bob):
    from accounts.services import preferences_get

    build_history(alice, bob, timezone.localdate())
    # A customer's long unbroken site name wraps instead of widening the page.
    Site.objects.filter(owner=alice).update(name="Supercalifragilisticexpialidocious" * 2)
    client = Client()
    client.force_login(alice)
    with chromium(390, 844) as browser:
        browser.get(live_server.url + "/health")
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": cookie, "path": "/"})
        for theme in ("light", "dark"):
            preferences = preferences_get(user=alice)
            preferences.theme = theme
            preferences.save()
            for tab in TABS:
                browser.get(f"{live_server.url}/analytics/?period=7&tab={tab}")
                canvases = browser.execute_script(DRAWN)
                assert canvases, f"{tab}: no chart"
                for canvas_id, painted, width in canvases:
                    assert painted > 100, f"{tab} ({theme}): {canvas_id} is blank"
                    assert (
                        0
                        < width
                        <= browser.execute_script("return document.documentElement.clientWidth")
                    ), f"{tab}: {canvas_id} is wider than the screen"
                overflow = browser.execute_script(
                    "return document.documentElement.scrollWidth > "
                    "document.documentElement.clientWidth"
                )
                assert not overflow, f"{tab} scrolls sideways on a phone"
        # The live test server has no favicon route or WebSocket server: those 404s are not ours.
        errors = [e for e in console_errors(browser) if "favicon" not in e and "/ws/" not in e]
        assert errors == []
