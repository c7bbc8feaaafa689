"""The analytics page: the team's figures, a tab of charts with its tables, empty states that
say what will appear, filters, and nothing of another team."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from analytics.tests.fixtures import build_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice, bob):
    return build_history(alice, bob, timezone.localdate())


def charts_of(response) -> list[dict]:
    html = response.content.decode()
    start = html.index('<script id="analytics-charts" type="application/json">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(body)


def test_the_page_shows_the_key_and_dora_figures(web, history):
    response = web.get("/analytics/?period=7")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-metric="totalDeployments">9<' in html
    assert 'data-metric="successRate">57.1%<' in html
    assert 'data-metric="avgBuildTime">1m 34s<' in html
    assert "42.9%" in html  # change failure rate
    assert "13h 45m" in html  # time to restore: 49,500 s
    frequency = charts_of(response)[0]
    assert frequency["id"] == "frequency"
    assert frequency["datasets"][0]["data"] == [1, 3, 0, 0, 2, 1, 2]
    assert "<script>" not in html  # data travels as JSON, drawn by a static script


@pytest.mark.parametrize(
    ("tab", "chart_ids"),
    [
        ("frequency", ["frequency", "hourly"]),
        ("success", ["success-rates", "status"]),
        ("durations", ["durations"]),
        ("resources", ["resources"]),
        ("traffic", ["traffic-requests", "traffic-statuses", "traffic-bytes"]),
    ],
)
def test_each_tab_has_its_charts_and_a_table(web, history, tab, chart_ids):
    response = web.get(f"/analytics/?period=7&tab={tab}")
    assert [chart["id"] for chart in charts_of(response)] == chart_ids
    html = response.content.decode()
    for chart_id in chart_ids:
        assert f'id="chart-{chart_id}"' in html
    assert "<table" in html or "<progress" in html


def test_durations_tab_has_fastest_average_and_slowest(web, history):
    html = web.get("/analytics/?period=7&tab=durations").content.decode()
    assert "Fastest build" in html and "20s" in html
    assert "5m 0s" in html  # the slowest, 300 s


def test_bobs_page_has_only_his_site(client, bob, history):
    client.force_login(bob)
    html = client.get("/analytics/?period=7&tab=traffic").content.decode()
    assert "Charlie&#x27;s" in html or "Charlie's" in html
    assert "Alpha" not in html and "Beta" not in html
    assert 'data-metric="totalDeployments">2<' in html
    # Alice's site id in the filter is not one of his choices: the filter falls back to all.
    response = client.get(f"/analytics/?site={history.sites['A'].pk}")
    assert response.status_code == 200
    assert 'data-metric="totalDeployments">2<' in response.content.decode()


def test_site_filter(web, history):
    html = web.get(f"/analytics/?period=7&site={history.sites['B'].pk}").content.decode()
    assert 'data-metric="totalDeployments">3<' in html
    assert "Beta over the last 7 days" in html


@pytest.mark.parametrize(
    ("tab", "words"),
    [
        ("frequency", "Each deployment you start will be counted here"),
        ("success", "succeed and fail each week"),
        ("durations", "record how long their build took"),
        ("resources", "No sites yet"),
        ("traffic", "they will show here per day and per site"),
    ],
)
def test_empty_states_say_what_will_appear(web, tab, words):
    html = web.get(f"/analytics/?tab={tab}").content.decode()
    assert words in html
    assert "<canvas" not in html


def test_signed_out_visitors_go_to_sign_in(client):
    response = client.get("/analytics/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_traffic_tab_shows_status_codes_and_top_paths(web, history):
    html = web.get("/analytics/?period=7&tab=traffic").content.decode()
    assert "data-errors>2 / 1<" in html  # 404 ×2, 500 ×1
    statuses = html.split("data-traffic-statuses>")[1].split("</table>")[0]
    assert [cell.split("</td>")[0] for cell in statuses.split("<td>")[1::2]] == [
        "200",
        "301",
        "304",
        "404",
        "500",
    ]
    paths = html.split("data-traffic-paths>")[1].split("</table>")[0]
    assert paths.index("/about") < paths.index("/blog")
    assert "<td>Alpha</td><td>9</td>" in paths
    sites = html.split("data-traffic-sites>")[1].split("</table>")[0]
    assert "<td>11</td><td>2</td><td>1</td><td>1</td>" in sites  # Alpha's classes


def test_resources_tab_shows_cpu_and_memory(web, history, settings):
    settings.MONITORING_HEARTBEAT_INTERVAL = 10**6  # every reading of the fixture is recent
    html = web.get("/analytics/?period=7&tab=resources").content.decode()
    meters = html.split("data-resources>")[1].split("</ul>")[0]
    assert "8m 50s by your sites" in meters  # 530.5 CPU seconds
    assert "110.0\xa0MB held by your sites" in meters  # each site's latest: A's 70, B's 40 MiB
    sites = html.split("data-resource-sites>")[1].split("</table>")[0]
    assert "<td>2m 0s</td>" in sites  # Alpha's processes: 120.5 s
    assert "4m 10s" in sites  # Beta's build: 250 s
