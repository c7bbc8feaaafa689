"""Sizes shown as a pair (used of limit, free of limit) read in one unit."""

from __future__ import annotations

from controlpanel.templatetags.berth import size_like

GB, MB = 1024**3, 1024**2


def test_a_value_takes_the_unit_of_its_reference():
    assert size_like(GB - 1000, GB) == "1.0\xa0GB"
    assert size_like(512 * MB, GB) == "0.5\xa0GB"
    assert size_like(300 * MB, 500 * MB) == "300.0\xa0MB"


def test_small_values_keep_a_readable_unit():
    assert size_like(5 * 1024, GB) == "5.0\xa0KB"
    assert size_like(10, GB) == "10\xa0bytes"
    assert size_like(None, GB) == "0\xa0bytes"
