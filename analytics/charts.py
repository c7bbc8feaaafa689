"""What the analytics page draws: each tab's charts as plain data for static/js/analytics.js.

A chart is ``{"id", "type", "title", "labels", "datasets": [{"label", "data", "color"}],
"unit"}``; colours name the stylesheet's variables (``primary``, ``success``…), so the script
picks the light or dark value the page is showing. The same rows fill each chart's table.
"""

from __future__ import annotations

from analytics import selectors

TABS = {
    "frequency": "Frequency",
    "success": "Success rate",
    "durations": "Build duration",
    "resources": "Resources",
    "traffic": "Traffic",
}
DEFAULT_TAB = "frequency"


def _day(day) -> str:
    return f"{day:%b} {day.day}"


def chart(chart_id: str, kind: str, title: str, labels, datasets, unit: str = "", **options):
    return {
        "id": chart_id,
        "type": kind,
        "title": title,
        "labels": list(labels),
        "datasets": datasets,
        "unit": unit,
        **options,
    }


def series(label: str, data, color: str, **options) -> dict:
    return {"label": label, "data": list(data), "color": color, **options}


def frequency_tab(scope: selectors.Scope) -> dict:
    days = selectors.deployment_frequency(scope)
    hours = selectors.hourly_deployments(scope)
    return {
        "rows": days,
        "hours": hours,
        "charts": [
            chart(
                "frequency",
                "line",
                "Deployments per day",
                (_day(row["day"]) for row in days),
                [
                    series("Deployments", (r["deployments"] for r in days), "primary", fill=True),
                    series("Successful", (r["successful"] for r in days), "success"),
                ],
            ),
            chart(
                "hourly",
                "bar",
                "Deployments by hour of the day",
                (row["hour"] for row in hours),
                [series("Deployments", (r["deployments"] for r in hours), "primary")],
            ),
        ],
    }


def success_tab(scope: selectors.Scope) -> dict:
    weeks = selectors.success_rates(scope)
    status = selectors.deployment_status(scope)
    colors = {"Success": "success", "Failed": "danger", "Cancelled": "faint"}
    return {
        "rows": weeks,
        "status": status,
        "charts": [
            chart(
                "success-rates",
                "line",
                "Finished builds per week",
                (f"Week of {_day(row['week_start'])}" for row in weeks),
                [
                    series("Success", (r["success"] for r in weeks), "success"),
                    series("Failed", (r["failed"] for r in weeks), "danger"),
                ],
                unit="%",
            ),
            chart(
                "status",
                "pie",
                "How deployments ended",
                (row["name"] for row in status),
                [
                    series(
                        "Deployments",
                        (r["value"] for r in status),
                        "primary",
                        colors=[colors.get(r["name"], "info") for r in status],
                    )
                ],
            ),
        ],
    }


def durations_tab(scope: selectors.Scope) -> dict:
    days = selectors.build_durations(scope)
    return {
        "rows": days,
        "summary": selectors.build_summary(scope),
        "charts": [
            chart(
                "durations",
                "line",
                "Build time per day",
                (_day(row["day"]) for row in days),
                [
                    series("Average", (r["avg_duration"] for r in days), "primary"),
                    series("Shortest", (r["min_duration"] for r in days), "success"),
                    series("Longest", (r["max_duration"] for r in days), "warning"),
                ],
                unit="s",
            )
        ],
    }


def resources_tab(scope: selectors.Scope) -> dict:
    used = selectors.resources(scope)
    rows = used["rows"]
    return {
        "rows": rows,
        "sites": used["sites"],
        "charts": [
            chart(
                "resources",
                "bar",
                "Share used (CPU: of one core; memory: of the server; the rest: of the limits)",
                (row["name"] for row in rows),
                [series("Used", (r["value"] for r in rows), "primary")],
                unit="%",
                horizontal=True,
                max=100,
            )
        ],
    }


STATUS_SERIES = (
    ("2xx", "2xx success", "success"),
    ("3xx", "3xx redirect / not modified", "info"),
    ("4xx", "4xx client error", "warning"),
    ("5xx", "5xx server error", "danger"),
)


def traffic_tab(scope: selectors.Scope) -> dict:
    traffic = selectors.traffic(scope)
    days = traffic["days"]
    names = selectors.STATUS_CLASSES
    return {
        "traffic": traffic,
        "rows": [{**row, "classes": [row[name] for name in names]} for row in days],
        "sites": [{**row, "classes": [row[name] for name in names]} for row in traffic["sites"]],
        "errors": {
            "client": sum(row["4xx"] for row in days),
            "server": sum(row["5xx"] for row in days),
        },
        "charts": [
            chart(
                "traffic-requests",
                "bar",
                "Requests per day",
                (_day(row["day"]) for row in days),
                [series("Requests", (r["requests"] for r in days), "info")],
            ),
            chart(
                "traffic-statuses",
                "bar",
                "Responses per day by status",
                (_day(row["day"]) for row in days),
                [
                    series(label, (r[name] for r in days), color)
                    for name, label, color in STATUS_SERIES
                ],
                stacked=True,
            ),
            chart(
                "traffic-bytes",
                "line",
                "Data served per day",
                (_day(row["day"]) for row in days),
                [series("Bytes", (r["bytes"] for r in days), "primary", fill=True)],
                unit="B",
            ),
        ],
    }


TAB_BUILDERS = {
    "frequency": frequency_tab,
    "success": success_tab,
    "durations": durations_tab,
    "resources": resources_tab,
    "traffic": traffic_tab,
}


def tab_data(tab: str, scope: selectors.Scope) -> dict:
    return TAB_BUILDERS[tab](scope)
