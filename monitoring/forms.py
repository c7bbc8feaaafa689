from django import forms

from monitoring.models import Incident, Service


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Email updates about incidents")


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What is happening")
    state = forms.ChoiceField(choices=Incident.State.choices, initial=Incident.State.INVESTIGATING)
    severity = forms.ChoiceField(choices=Incident.Severity.choices)
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.filter(enabled=True), required=False, label="Affected services"
    )


class IncidentUpdateForm(forms.Form):
    state = forms.ChoiceField(choices=Incident.State.choices)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
