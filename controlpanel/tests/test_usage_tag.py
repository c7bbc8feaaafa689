"""``{% usage %}`` (a site's storage and bandwidth with their meters) writes what the template
it replaced wrote, value for value."""

from __future__ import annotations

import itertools

from django.template import Context, Template

# The partial the tag replaced, as it was.
TEMPLATE = """{% load berth %}<div class="usage">
  <div class="row"><span>Storage</span><span>{{ site.storage_in_use|size_like:site.storage_limit }} of {{ site.storage_limit|filesizeformat }}</span></div>
  <meter min="0" max="{{ site.storage_limit }}" low="{% widthratio site.storage_limit 10 8 %}" high="{% widthratio site.storage_limit 100 95 %}" optimum="0" value="{{ site.storage_in_use }}" aria-label="Storage used">{{ site.storage_in_use|percent:site.storage_limit }}%</meter>
</div>
<div class="usage">
  <div class="row"><span>Bandwidth this month</span><span>{{ site.bandwidth_used|size_like:site.bandwidth_limit }} of {{ site.bandwidth_limit|filesizeformat }}</span></div>
  <meter min="0" max="{{ site.bandwidth_limit }}" low="{% widthratio site.bandwidth_limit 10 8 %}" high="{% widthratio site.bandwidth_limit 100 95 %}" optimum="0" value="{{ site.bandwidth_used }}" aria-label="Bandwidth used this month">{{ site.bandwidth_used|percent:site.bandwidth_limit }}%</meter>
</div>
"""  # noqa: E501

TAG = (
    "{% load berth %}{% usage site.storage_in_use site.storage_limit site.bandwidth_used"
    " site.bandwidth_limit %}"
)

USED = [0, 1, 1023, 5 * 1024, 512 * 1024**2 + 17, 3 * 1024**3, 10**13, None, "<b>"]
LIMITS = [1 << 30, 10 << 20, 100 * 1024**3, 5 << 40, 1, 0, None, "<b>"]


def test_the_tag_writes_what_the_template_wrote():
    before, after = Template(TEMPLATE), Template(TAG)
    for used, limit in itertools.product(USED, LIMITS):
        site = {
            "storage_in_use": used,
            "storage_limit": limit,
            "bandwidth_used": used,
            "bandwidth_limit": limit,
        }
        assert after.render(Context({"site": site})) == before.render(Context({"site": site})), (
            used,
            limit,
        )
        assert after.render(Context({"site": site})).count("<meter") == 2


def test_a_card_reads_its_usage_in_one_unit():
    site = {
        "storage_in_use": 512 * 1024,
        "storage_limit": 1 << 30,
        "bandwidth_used": 0,
        "bandwidth_limit": 100 * 1024**3,
    }
    html = Template(TAG).render(Context({"site": site}))
    assert "<span>512.0\xa0KB of 1.0\xa0GB</span>" in html
    assert 'max="1073741824" low="858993459" high="1020054733"' in html
    assert "0\xa0bytes of 100.0\xa0GB" in html
