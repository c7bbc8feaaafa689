"""What every page needs: navigation, theme, the configured sign-in providers."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from accounts.selectors import preferences_find
from accounts.services import preferences_get

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


@lru_cache(maxsize=64)
def _sections(urlconf: str, prefix: str) -> tuple[tuple[str, str, str], ...]:
    """The navigation's sections with their addresses, reversed once per URLconf and script
    prefix (every signed-in page draws them)."""
    sections = []
    for label, name, icon in NAVIGATION:
        try:
            url = reverse(name, urlconf=urlconf)
        except NoReverseMatch:
            continue
        sections.append((label, url, icon))
    return tuple(sections)


def _navigation(request) -> list[dict]:
    path = request.path
    return [
        {
            "label": label,
            "url": url,
            "icon": icon,
            "active": path == url or (url != "/" and path.startswith(url)),
        }
        for label, url, icon in _sections(
            get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()
        )
    ]


def panel(request) -> dict:
    theme = "system"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        preferences = preferences_find(user=user) or preferences_get(user=user)
        theme = preferences.theme
    return {
        "navigation": _navigation(request) if user and user.is_authenticated else [],
        "theme": theme,
        "PANEL_URL": settings.PANEL_URL,
        "SITES_DOMAIN": settings.SITES_DOMAIN,
        "oauth_providers": [
            p for p in ("github", "google") if p in settings.SOCIALACCOUNT_PROVIDERS
        ],
    }
