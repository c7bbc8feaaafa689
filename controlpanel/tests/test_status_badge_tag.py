"""``{% status_badge %}`` writes what the partial it replaced wrote, value for value."""

from __future__ import annotations

import itertools

from django.template import Context, Template
from django.utils.safestring import mark_safe

# The partial the tag replaced, as it was, included as pages included it.
PARTIAL = (
    '{% load berth %}<span class="badge {{ status|status_tone }}">'
    "{{ label|default:status|capfirst }}</span>\n"
)
STATUSES = ["success", "failed", "building", "suspended", "Online", "odd <b>", "", None, 3]
LABELS = ["Newer attempt failed", "no deployment yet", "<i>x</i>", mark_safe("<i>y</i>"), "", None]


def test_the_tag_writes_what_the_partial_wrote():
    partial = Template(PARTIAL)
    with_label = Template("{% load berth %}{% status_badge status label %}")
    without = Template("{% load berth %}{% status_badge status %}")
    for status, label in itertools.product(STATUSES, LABELS):
        context = {"status": status, "label": label}
        assert with_label.render(Context(context)) == partial.render(Context(context))
        # Without a label the partial read the page's own ``label``, if any.
        assert without.render(Context(context)) == partial.render(Context(context))
        assert without.render(Context({"status": status})) == partial.render(
            Context({"status": status})
        )


def test_a_badge_reads_its_status():
    html = Template('{% load berth %}{% status_badge "failed" "Newer attempt failed" %}').render(
        Context()
    )
    assert html == '<span class="badge badge-danger">Newer attempt failed</span>\n'
