"""Filters of the operators' transactions page (the same as the admin API's)."""

from __future__ import annotations

from django import forms


class TransactionFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, label="Type")
    team = forms.UUIDField(required=False, label="Team id")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "Any type"), *kinds]
