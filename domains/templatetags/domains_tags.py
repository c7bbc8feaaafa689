"""``{% load domains_tags %}{% site_domains site %}``: a site's custom domains, for site pages."""

from __future__ import annotations

from django import template

from domains import selectors

register = template.Library()


@register.inclusion_tag("domains/_site_domains.html", takes_context=True)
def site_domains(context, site):
    user = context["request"].user
    domains = list(selectors.domains_of_site(user=user, site=site))
    for domain in domains:
        domain.current_certificate = selectors.current_certificate(domain)
    return {"site": site, "domains": domains}
