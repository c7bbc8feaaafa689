"""The Backups tab's schedule form."""

from __future__ import annotations

from django import forms

from backups.services import WEEKDAYS


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
