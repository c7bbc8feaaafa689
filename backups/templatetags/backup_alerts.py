"""``{% backup_alert site %}``: the banner every page of a site shows while its last scheduled
backup or its last restore drill has failed (and nothing has succeeded since)."""

from django import template

from backups import selectors

register = template.Library()


@register.inclusion_tag("backups/_alert.html")
def backup_alert(site):
    return {"site": site, **selectors.site_alerts(site=site)}
