"""Pictures drawn on the server, so pages need no chart library and no inline styles (the CSP
forbids them): the 90-day bars, the SVG status badge, and hosts' history as SVG polylines."""

from __future__ import annotations

from datetime import UTC, timedelta
from html import escape

from django.utils import timezone
from django.utils.safestring import mark_safe

BADGE_COLOURS = {"operational": "#2e7d32", "degraded": "#b26a00", "down": "#c62828"}


def _last_days(days: int) -> list[str]:
    today = timezone.now().astimezone(UTC).date()
    return [(today - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def day_bars(rows: list[dict], days: int = 90) -> str:
    """The bars' HTML, one span per day, oldest first, classed ok, degraded, down or none.
    Built here rather than in a template loop: 20 services × 90 days is 1,800 elements."""
    by_date = {row["date"]: row for row in rows}
    bars = []
    for day in _last_days(days):
        row = by_date.get(day)
        if row is None or row["uptime"] is None:
            bars.append(("none", f"{day}: no data"))
            continue
        tone = "down" if row["down"] else ("degraded" if row["degraded"] else "ok")
        bars.append((tone, f"{day}: {row['uptime']:g}% up"))
    # Tones are fixed words and titles a date and a number: escaped once, joined plainly
    # (format_html per element costs more than the rest of the page).
    return mark_safe(  # noqa: S308
        "".join(
            f'<span class="bar bar-{tone}" title="{escape(title)}"></span>' for tone, title in bars
        )
    )


def badge_svg(label: str, status: str) -> str:
    """A shields-style badge: the service's name, then its status in its colour."""
    left, right = escape(label), escape(status)
    lw, rw = 7 * len(label) + 12, 7 * len(status) + 12
    colour = BADGE_COLOURS.get(status, "#555")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lw + rw}" height="20" role="img" '
        f'aria-label="{left}: {right}"><title>{left}: {right}</title>'
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">{left}</text><text x="{lw + 6}" y="14">{right}</text></g></svg>'
    )


def polyline(values: list[float], width: int = 300, height: int = 60) -> str:
    """SVG ``points`` for percentages 0–100 spread over ``width``."""
    if not values:
        return ""
    step = width / max(1, len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - min(100.0, max(0.0, v)) * height / 100:.1f}"
        for i, v in enumerate(values)
    )


def host_charts(samples) -> list[dict]:
    charts = []
    for key, label in (("cpu", "CPU"), ("memory", "Memory"), ("disk", "Disk")):
        values = [getattr(sample, key) for sample in samples]
        charts.append(
            {
                "label": label,
                "points": polyline(values),
                "latest": round(values[-1], 1) if values else None,
                "peak": round(max(values), 1) if values else None,
            }
        )
    return charts
