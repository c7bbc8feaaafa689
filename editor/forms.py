from __future__ import annotations

from django import forms


class PageCreateForm(forms.Form):
    title = forms.CharField(max_length=120, label="New page title")


class PageSettingsForm(forms.Form):
    title = forms.CharField(max_length=120)
    slug = forms.CharField(
        max_length=60, label="Address", help_text="The page is published at /address/."
    )
    description = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown by search engines and when the page is shared.",
    )
    social_image = forms.CharField(
        max_length=500,
        required=False,
        label="Social image",
        help_text="An https:// address or a path on the site (“/img/card.png”), "
        "shown when the page is shared.",
    )
