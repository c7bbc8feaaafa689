"""``|iso`` writes what ``|date:"c"`` writes, in the current time zone."""

from __future__ import annotations

import datetime

from django.template import Context, Template
from django.utils import timezone


def test_iso_is_the_c_format():
    aware = datetime.datetime(2026, 12, 1, 23, 14, 32, 160140, tzinfo=datetime.UTC)
    values = [
        aware,
        aware.replace(microsecond=0),
        datetime.datetime(2026, 12, 1, 8, 0),  # naive
        datetime.date(2026, 2, 3),
        None,
        "",
        "not a date",
    ]
    iso, c_format = Template("{% load berth %}{{ v|iso }}"), Template('{{ v|date:"c" }}')
    for zone in ("UTC", "Europe/Paris", "America/Los_Angeles"):
        with timezone.override(zone):
            for value in values:
                assert iso.render(Context({"v": value})) == c_format.render(Context({"v": value}))
    with timezone.override("Europe/Paris"):
        assert iso.render(Context({"v": aware})) == "2026-12-02T00:14:32.160140+01:00"
