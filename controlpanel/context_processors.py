"""What every page needs: navigation, theme, the configured sign-in providers."""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

# The signed-in navigation. A section appears once its app provides the page.
NAVIGATION = [
    ("Dashboard", "dashboard", "home"),
    ("Sites", "hosting:site-list", "server"),
    ("Deployments", "deployments:list", "rocket"),
    ("Domains", "domains:list", "globe"),
    ("Analytics", "analytics:index", "chart"),
    ("Teams", "teams:list", "user"),
    ("Editor", "editor:index", "layout"),
    ("Billing", "billing:index", "card"),
    ("Status", "monitoring:status", "activity"),
    ("Settings", "settings", "settings"),
]


def _navigation(request) -> list[dict]:
    items = []
    for label, name, icon in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"label": label, "url": url, "icon": icon, "active": active})
    return items


def panel(request) -> dict:
    theme = "system"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from accounts.services import preferences_get

        theme = preferences_get(user=user).theme
    return {
        "navigation": _navigation(request) if user and user.is_authenticated else [],
        "theme": theme,
        "PANEL_URL": settings.PANEL_URL,
        "SITES_DOMAIN": settings.SITES_DOMAIN,
        "oauth_providers": [
            p for p in ("github", "google") if p in settings.SOCIALACCOUNT_PROVIDERS
        ],
    }
