"""The Backups tab's forms: the schedule with its retention rules, and restoring into another
site."""

from __future__ import annotations

from django import forms

from backups.services import WEEKDAYS

KEEP_HELP = "0 turns a rule off; your plan's retention caps them all."


class ScheduleForm(forms.Form):
    frequency = forms.ChoiceField(
        choices=[("off", "Off"), ("daily", "Daily"), ("weekly", "Weekly")]
    )
    hour = forms.TypedChoiceField(
        coerce=int, choices=[(h, f"{h:02d}:00 UTC") for h in range(24)], initial=3
    )
    weekday = forms.TypedChoiceField(
        coerce=int, choices=list(enumerate(WEEKDAYS)), initial=0, label="Day (weekly)"
    )
    keep_last = forms.IntegerField(
        min_value=1, max_value=1000, initial=7, required=False, label="Keep the last"
    )
    keep_daily = forms.IntegerField(
        min_value=0, max_value=1000, initial=7, required=False, label="Daily for (days)"
    )
    keep_weekly = forms.IntegerField(
        min_value=0, max_value=1000, initial=4, required=False, label="Weekly for (weeks)"
    )
    keep_monthly = forms.IntegerField(
        min_value=0,
        max_value=1000,
        initial=6,
        required=False,
        label="Monthly for (months)",
        help_text=KEEP_HELP,
    )


class RestoreElsewhereForm(forms.Form):
    """Into a new site (static sites: made here, by name) or into another site of the same
    kind in the team (a WordPress site created for it, say)."""

    new_site_name = forms.CharField(max_length=100, required=False, label="New site's name")
    target = forms.ChoiceField(required=False, label="Or into the site")

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—"), *((str(s.pk), s.name) for s in sites)]

    def clean(self):
        data = super().clean()
        if bool((data.get("new_site_name") or "").strip()) == bool(data.get("target")):
            raise forms.ValidationError("Name a new site, or choose one of your sites.")
        return data
