"""Template helpers shared by every page: icons, durations, form fields, query strings."""

from __future__ import annotations

import datetime
import html
import uuid
from functools import lru_cache

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.defaultfilters import capfirst, date, default, filesizeformat
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def icon(name: str, css: str = "") -> str:
    """An icon from the sprite (static/img/icons.svg)."""
    return _icon(str(name), str(css))


@lru_cache(maxsize=1024)
def _icon(name: str, css: str) -> str:
    # A page draws up to ~130 icons (the sites list: 24 cards), and each went through the
    # static files storage's manifest look-up and a URL join: the same few names every time.
    return format_html(
        '<svg class="icon {}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        css,
        static("img/icons.svg"),
        name,
    )


# What an icon's address and a size's wording depend on besides their arguments.
_ICON_SETTINGS = {"STATIC_URL", "STORAGES", "STATIC_ROOT"}
_NUMBER_SETTINGS = {
    "DECIMAL_SEPARATOR",
    "FORMAT_MODULE_PATH",
    "LANGUAGE_CODE",
    "LANGUAGES",
    "LOCALE_PATHS",
    "NUMBER_GROUPING",
    "THOUSAND_SEPARATOR",
    "USE_I18N",
    "USE_THOUSAND_SEPARATOR",
}


def _forget(setting, **kwargs):
    if setting in _ICON_SETTINGS:
        _icon.cache_clear()
    if setting in _NUMBER_SETTINGS:
        _filesize.cache_clear()


setting_changed.connect(_forget)


@register.simple_tag(takes_context=True)
def route(context, name: str, *args) -> str:
    """``{% url name %}`` or ``{% url name id %}`` (one UUID), the same address, for the links
    a list draws on every row: the route is reversed once per process (with a sample id whose
    text is then replaced by the row's), not once per link (~40 µs each; a page of 24 site
    cards has 120). Other arguments go through ``reverse`` as ``{% url %}`` does."""
    # The URLconf, script prefix and namespace are the same for a whole template: read once.
    where = context.render_context.get(_ROUTE_STATE)
    if where is None:
        where = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), _current_app(context))
        context.render_context[_ROUTE_STATE] = where
    if len(args) > 1 or (args and type(args[0]) is not uuid.UUID):
        return reverse(name, args=args, current_app=where[2])
    found = _route(name, bool(args), *where)
    if found is None:
        return reverse(name, args=args, current_app=where[2])
    before, after = found
    return f"{before}{args[0]}{after}" if args else before


_ROUTE_STATE = object()
# No object has this id: its text marks where a route's id goes.
_SAMPLE_ID = uuid.UUID("0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f")


@lru_cache(maxsize=512)
def _route(name: str, with_id: bool, urlconf: str, prefix: str, current_app):
    """Route ``name``'s address before and after its id (without one: the whole address and
    ""); None when it has no such route or the id is not in it once, as it is. ``prefix``
    (the script prefix, which ``reverse`` reads itself) keys the cache."""
    try:
        if not with_id:
            return reverse(name, urlconf=urlconf, current_app=current_app), ""
        address = reverse(name, args=[_SAMPLE_ID], urlconf=urlconf, current_app=current_app)
    except NoReverseMatch:
        return None
    before, found, after = address.partition(str(_SAMPLE_ID))
    if not found or str(_SAMPLE_ID) in after:
        return None
    return before, after


def _current_app(context):
    """The namespace ``{% url %}`` reverses in, found as it finds it."""
    try:
        return context.request.current_app
    except AttributeError:
        try:
            return context.request.resolver_match.namespace
        except AttributeError:
            return None


@register.filter
def iso_datetime(value):
    """An ISO 8601 string from an API-shaped dict as a datetime, for the date filters (None
    when empty or not a date)."""
    if not value or not isinstance(value, str):
        return value or None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


@register.filter(expects_localtime=True)
def iso(value) -> str:
    """``date:"c"`` (ISO 8601) without the date format machinery (~35 µs a value, one per row
    of a list): what that format writes is the value's own ``isoformat()``."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return date(value, "c")


@register.filter
def duration(seconds) -> str:
    """Seconds as the API clients write durations: "45s", "2m 15s", "1h 3m"."""
    if seconds is None or seconds == "":
        return "—"
    seconds = round(float(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current query string with some parameters changed (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.inclusion_tag("components/_field.html")
def field(bound_field, help_text: str = ""):
    return {"field": bound_field, "help": help_text or bound_field.help_text}


@register.filter(is_safe=True)
def filesize(value) -> str:
    """``filesizeformat``, remembered for a whole number of bytes in each language: a list
    shows the same few sizes on every row (its plans' limits, nothing used yet), and each took
    ~20 µs of translation and number formatting look-ups."""
    if type(value) is not int:
        return filesizeformat(value)
    return _filesize(value, get_language())


@lru_cache(maxsize=4096)
def _filesize(value: int, language: str) -> str:
    return filesizeformat(value)


SIZE_UNITS = [("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)]


@register.filter
def size_like(value, reference) -> str:
    """``value`` in the unit ``filesizeformat`` picks for ``reference``, so a pair reads alike:
    "1.0 GB free of 1.0 GB", never "1024.0 MB free of 1.0 GB"."""
    try:
        value, reference = int(value), int(reference)
    except (TypeError, ValueError):
        return filesizeformat(value)
    for name, unit in SIZE_UNITS:
        if reference >= unit:
            if value >= unit // 10:
                return f"{value / unit:.1f}\xa0{name}"
            break
    return filesize(value)


# One line of a site's usage: "used of limit" and a meter (its attributes are machine numbers).
_METER = (
    '<div class="usage">\n'
    '  <div class="row"><span>{label}</span><span>{used_text} of {limit_text}</span></div>\n'
    '  <meter min="0" max="{limit}" low="{low}" high="{high}" optimum="0" value="{used}"'
    ' aria-label="{name}">{percent}%</meter>\n'
    "</div>"
)


@register.simple_tag
def usage(storage_used, storage_limit, bandwidth_used, bandwidth_limit) -> str:
    """A site's storage and this month's bandwidth, each "used of limit" with a meter that
    warns from 80 % and alarms from 95 % (the sites page draws it on each of its 24 cards,
    where a template of ~20 values and filters took ~0.1 ms a card)."""
    storage = _meter("Storage", "Storage used", storage_used, storage_limit)
    bandwidth = _meter(
        "Bandwidth this month", "Bandwidth used this month", bandwidth_used, bandwidth_limit
    )
    return mark_safe(f"{storage}\n{bandwidth}\n")  # noqa: S308  (every value escaped)


def _meter(label: str, name: str, used, limit) -> str:
    # str.format over escaped values: format_html's nine conditional_escape calls per meter
    # cost more than the rest of it.
    return _METER.format(
        label=label,
        name=name,
        used_text=_escaped(size_like(used, limit)),
        limit_text=_escaped(filesize(limit)),
        limit=_escaped(limit),
        low=_width_ratio(limit, 10, 8),
        high=_width_ratio(limit, 100, 95),
        used=_escaped(used),
        percent=percent(used, limit),
    )


def _escaped(value) -> str:
    """``conditional_escape(value)`` without its lazy-string wrapper."""
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _width_ratio(value, max_value: int, max_width: int) -> str:
    """``{% widthratio value max_value max_width %}``, as Django's tag computes it."""
    try:
        return str(round(float(value) / float(max_value) * max_width))
    except (ValueError, TypeError, OverflowError):
        return ""


@register.filter
def percent(part, whole) -> int:
    try:
        return min(100, round(100 * float(part) / float(whole))) if float(whole) else 0
    except (TypeError, ValueError):
        return 0


STATUS_TONES = {
    "success": {
        "success",
        "online",
        "active",
        "verified",
        "issued",
        "operational",
        "completed",
        "succeeded",
        "live",
        "paid",
        "fulfilled",
    },
    "danger": {
        "failed",
        "error",
        "offline",
        "down",
        "expired",
        "cancelled",
        "canceled",
        "revoked",
        "outage",
    },
    "info badge-running": {
        "uploading",
        "building",
        "deploying",
        "provisioning",
        "running",
        "pending",
        "queued",
        "verifying",
        "in_progress",
        "fulfilling",
    },
    "warning": {"degraded", "warning", "suspended", "expiring"},
}


_NO_LABEL = object()


@register.simple_tag(takes_context=True)
def status_badge(context, status, label=_NO_LABEL) -> str:
    """A status word as a coloured badge: ``label`` (else ``status``) capitalised, coloured by
    ``status``. A tag rather than an included partial: lists draw one per row, and an include
    cost ~50 µs each. Without ``label``, a ``label`` of the page is used, as the partial did."""
    if label is _NO_LABEL:
        label = context.get("label", "")
    return format_html(
        '<span class="badge {}">{}</span>\n', status_tone(status), capfirst(default(label, status))
    )


ATTEMPT_LABELS = {
    "failed": "Newer attempt failed",
    "cancelled": "Newer attempt cancelled",
    "uploading": "New deploy uploading",
    "queued": "New deploy queued",
    "building": "New deploy building",
    "deploying": "New deploy publishing",
}


@register.filter
def attempt_label(status) -> str:
    """How a site card flags a deployment newer than the live one; empty for none worth it."""
    return ATTEMPT_LABELS.get(str(status or ""), "")


@register.filter
def status_tone(status) -> str:
    """The badge colour class for a status word."""
    value = str(status or "").lower()
    for tone, words in STATUS_TONES.items():
        if value in words:
            return f"badge-{tone}"
    return ""
