"""The analytics page's filters: a period and, optionally, one of the team's sites."""

from __future__ import annotations

from django import forms

from analytics.charts import DEFAULT_TAB, TABS
from analytics.selectors import DEFAULT_PERIOD, PERIODS


class AnalyticsFilterForm(forms.Form):
    period = forms.TypedChoiceField(
        choices=[(days, f"Last {days} days") for days in PERIODS],
        coerce=int,
        required=False,
        empty_value=DEFAULT_PERIOD,
    )
    site = forms.ChoiceField(required=False, label="Site")
    tab = forms.ChoiceField(choices=list(TABS.items()), required=False)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "All sites")] + [
            (str(site.pk), site.name) for site in sites
        ]

    def values(self) -> dict:
        """The chosen filters; anything invalid falls back to its default."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "period": data.get("period") or DEFAULT_PERIOD,
            "site": data.get("site") or None,
            "tab": data.get("tab") or DEFAULT_TAB,
        }
