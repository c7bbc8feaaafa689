"""Forms of the domain pages. They check shapes; services check meaning (and both show errors)."""

from __future__ import annotations

from django import forms

from domains.models import DnsRecord, Domain

YEARS = [(n, f"{n} year{'s' if n > 1 else ''}") for n in (1, 2, 3, 5, 10)]


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Domain name",
        max_length=253,
        widget=forms.TextInput(
            attrs={"placeholder": "yourbrand or yourbrand.test", "autofocus": True}
        ),
    )


class RegisterForm(forms.Form):
    name = forms.CharField(max_length=253, widget=forms.HiddenInput)
    years = forms.TypedChoiceField(label="Period", choices=YEARS, coerce=int, initial=1)
    site = forms.ChoiceField(label="Attach to site", required=False)
    # The yearly price shown on the confirmation page; absent before the customer has seen it.
    confirm_price = forms.DecimalField(
        max_digits=12, decimal_places=2, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "— none yet —")] + [(str(s.pk), s.name) for s in sites]

    def site_name(self) -> str:
        """The chosen site's name (after validation), or "" for none."""
        return dict(self.fields["site"].choices).get(self.cleaned_data.get("site") or "", "")


class AddDomainForm(forms.Form):
    name = forms.CharField(
        label="Domain name",
        max_length=253,
        widget=forms.TextInput(attrs={"placeholder": "www.example.com"}),
        help_text="A domain you own at another registrar. You will prove it with a DNS record.",
    )
    site = forms.ChoiceField(label="Site", required=False)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "— choose later —")] + [
            (str(s.pk), s.name) for s in sites
        ]


class AttachForm(forms.Form):
    site = forms.ChoiceField(label="Site", required=False)
    redirect = forms.ChoiceField(label="www and apex", choices=Domain.Redirect.choices)
    is_primary = forms.BooleanField(label="Primary domain of the site", required=False)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "— not attached —")] + [
            (str(s.pk), s.name) for s in sites
        ]


class RegistrationForm(forms.Form):
    auto_renew = forms.BooleanField(label="Renew automatically", required=False)
    transfer_lock = forms.BooleanField(label="Transfer lock", required=False)


class RenewForm(forms.Form):
    years = forms.TypedChoiceField(label="Renew for", choices=YEARS, coerce=int, initial=1)


class NameserversForm(forms.Form):
    nameservers = forms.CharField(
        label="Nameservers",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, 2 to 13.",
    )

    def clean_nameservers(self):
        return [n.strip() for n in self.cleaned_data["nameservers"].splitlines() if n.strip()]


class RecordForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=253,
        required=False,
        initial="@",
        help_text="“@” for the domain itself, or a subdomain such as “www”.",
    )
    type = forms.ChoiceField(label="Type", choices=DnsRecord.Type.choices)
    content = forms.CharField(label="Value", max_length=2000)
    ttl = forms.IntegerField(label="TTL (seconds)", min_value=60, max_value=604800, initial=3600)
    priority = forms.IntegerField(
        label="Priority (MX, SRV)", min_value=0, max_value=65535, required=False
    )


class CertificateForm(forms.Form):
    names = forms.CharField(
        label="Names",
        required=False,
        help_text=(
            "Comma-separated; empty for the domain's own names. “*.name” needs DNS hosted by Berth."
        ),
    )

    def clean_names(self):
        return [n.strip() for n in self.cleaned_data["names"].split(",") if n.strip()]
