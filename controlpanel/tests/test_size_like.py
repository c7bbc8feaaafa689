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


def test_a_remembered_size_reads_as_filesizeformat_writes_it():
    from django.template.defaultfilters import filesizeformat
    from django.utils import translation

    from controlpanel.templatetags.berth import filesize

    values = [0, 1, 1023, 1024, 5 * 1024, GB - 1, GB, 100 * GB, 5 << 40, -2048]
    for value in values * 2:  # the second time from memory
        assert filesize(value) == filesizeformat(value)
    for value in ("2048", None, "x", 1.5):
        assert filesize(value) == filesizeformat(value)
    with translation.override("de"):
        assert filesize(1536) == filesizeformat(1536) == "1,5\xa0KB"
    assert filesize(1536) == "1.5\xa0KB"
