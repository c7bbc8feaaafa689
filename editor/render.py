"""Render a stored (cleaned) document to HTML and CSS, on the server.

The same document always gives the same bytes: components are written in document order,
attributes in their stored order, and CSS rules in document order with media rules after the
plain ones (widest ``max-width`` first, as GrapesJS writes them), so responsive rules keep
applying. Nothing from the browser's own rendering is used.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import escape
from urllib.parse import unquote

from editor.documents import VOID_TAGS, clean_attributes, document_clean, url_is_safe

BASE_CSS = "* { box-sizing: border-box; } body { margin: 0; }"
TYPE_TAGS = {"text": "div", "image": "img", "link": "a", "map": "iframe", "wrapper": "body"}
VIDEO_EMBEDS = {
    "yt": "https://www.youtube.com/embed/{}",
    "ytnc": "https://www.youtube-nocookie.com/embed/{}",
    "vi": "https://player.vimeo.com/video/{}",
}
VIDEO_ID = re.compile(r"^[-_a-zA-Z0-9]{1,40}$")


@dataclass(frozen=True)
class NavLink:
    title: str
    path: str
    current: bool = False


def _attrs(attributes: dict) -> str:
    parts = []
    for name, value in attributes.items():
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escape(str(value), quote=True)}"')
    return "".join(parts)


def _classes(node: dict) -> list[str]:
    out = []
    for c in node.get("classes") or []:
        name = c.get("name") if isinstance(c, dict) else c
        if isinstance(name, str) and name not in out:
            out.append(name)
    return out


def _nav_html(node: dict, nav: list[NavLink]) -> str:
    classes = ["berth-nav", *[c for c in _classes(node) if c != "berth-nav"]]
    attrs = {k: v for k, v in (node.get("attributes") or {}).items() if k != "class"}
    items = "".join(
        f'<li><a href="{escape(link.path)}"'
        + (' aria-current="page"' if link.current else "")
        + f">{escape(link.title)}</a></li>"
        for link in nav
    )
    return f'<nav class="{" ".join(classes)}"{_attrs(attrs)}><ul>{items}</ul></nav>'


def _rewrite(attributes: dict, asset_base: str) -> dict:
    """Images shown from the panel in the editor point at the site's own files when published."""
    if not asset_base:
        return attributes
    out = dict(attributes)
    for name in ("src", "href", "poster"):
        value = out.get(name)
        if isinstance(value, str) and value.startswith(asset_base):
            out[name] = "/" + unquote(value[len(asset_base) :]).lstrip("/")
    return out


def component_html(node: dict, nav: list[NavLink], asset_base: str = "") -> str:
    kind = node.get("type")
    if kind == "textnode":
        return escape(node.get("content") or "", quote=False)
    if kind == "berth-nav":
        return _nav_html(node, nav)
    tag = node.get("tagName") or TYPE_TAGS.get(kind or "", "div")
    attributes = dict(node.get("attributes") or {})
    if kind == "video":
        provider = node.get("provider") or "so"
        video_id = node.get("videoId") or ""
        if provider in VIDEO_EMBEDS and VIDEO_ID.match(video_id):
            tag = "iframe"
            attributes["src"] = VIDEO_EMBEDS[provider].format(video_id)
            attributes.setdefault("allowfullscreen", True)
        else:
            tag = "video"
            attributes.setdefault("controls", True)
    for prop in ("src", "href"):
        value = node.get(prop)
        fresh = isinstance(value, str) and value and prop not in attributes
        if fresh and url_is_safe(value, image=prop == "src"):
            attributes[prop] = value
    attributes = clean_attributes(tag, _rewrite(attributes, asset_base))
    classes = _classes(node)
    if classes:
        attributes = {
            "class": " ".join(classes),
            **{k: v for k, v in attributes.items() if k != "class"},
        }
    if tag == "iframe":
        attributes.setdefault("loading", "lazy")
    if tag in VOID_TAGS:
        return f"<{tag}{_attrs(attributes)}>"
    inner = ""
    content = node.get("content")
    if isinstance(content, str) and "<" not in content:
        inner += content
    inner += "".join(component_html(c, nav, asset_base) for c in node.get("components") or [])
    return f"<{tag}{_attrs(attributes)}>{inner}</{tag}>"


def _selector(rule: dict) -> str:
    parts = []
    for selector in rule.get("selectors") or []:
        if isinstance(selector, dict):
            name = selector.get("name", "")
            parts.append(("#" if selector.get("type") == 2 else ".") + name)
        elif selector.startswith("#"):
            parts.append(selector)
        else:
            parts.append("." + selector.lstrip("."))
    selector = "".join(parts)
    state = rule.get("state")
    if selector and state:
        selector += f":{state}"
    added = rule.get("selectorsAdd")
    if added:
        selector = f"{selector}, {added}" if selector else added
    return selector


def _declarations(style: dict) -> str:
    return ";".join(f"{prop}:{value}" for prop, value in style.items())


def _media_order(media: str) -> tuple:
    numbers = re.findall(r"(max|min)-width:\s*(\d+(?:\.\d+)?)", media)
    if numbers and numbers[0][0] == "max":
        return (0, -float(numbers[0][1]))
    if numbers:
        return (1, float(numbers[0][1]))
    return (2, 0.0)


def css_text(styles: list) -> str:
    plain: list[str] = []
    media: dict[str, list[str]] = {}
    for rule in styles:
        selector = _selector(rule)
        declarations = _declarations(rule.get("style") or {})
        if not selector or not declarations:
            continue
        text = f"{selector}{{{declarations}}}"
        if rule.get("atRuleType") == "media" and rule.get("mediaText"):
            media.setdefault(rule["mediaText"], []).append(text)
        else:
            plain.append(text)
    out = [BASE_CSS, *plain]
    for query in sorted(media, key=_media_order):
        out.append(f"@media {query}{{{''.join(media[query])}}}")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Rendered:
    body: str
    css: str


def document_render(
    document: str | dict, *, nav: list[NavLink] = (), asset_base: str = ""
) -> Rendered:
    """The page's body markup and its CSS. The document is cleaned again first, so even a row
    written around the services renders nothing active."""
    data = json.loads(document) if isinstance(document, str) else document
    data = document_clean(data)
    wrapper = data["pages"][0]["frames"][0]["component"]
    body = "".join(
        component_html(c, list(nav), asset_base) for c in wrapper.get("components") or []
    )
    return Rendered(body=body, css=css_text(data["styles"]))


def page_html(
    *,
    title: str,
    description: str,
    social_image: str,
    site_name: str,
    body: str,
    css_href: str | None = None,
    inline_css: str | None = None,
    lang: str = "en",
) -> str:
    """A complete HTML file around a rendered body."""
    head = [
        "<!doctype html>",
        f'<html lang="{escape(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
    ]
    if description:
        head.append(f'<meta name="description" content="{escape(description)}">')
    head.append(f'<meta property="og:title" content="{escape(title)}">')
    head.append(f'<meta property="og:site_name" content="{escape(site_name)}">')
    if description:
        head.append(f'<meta property="og:description" content="{escape(description)}">')
    if social_image:
        head.append(f'<meta property="og:image" content="{escape(social_image)}">')
        head.append('<meta name="twitter:card" content="summary_large_image">')
    if css_href:
        head.append(f'<link rel="stylesheet" href="{escape(css_href)}">')
    if inline_css is not None:
        safe_css = inline_css.replace("</", "<\\/")
        head.append(f"<style>{safe_css}</style>")
    head += ["</head>", f"<body>{body}</body>", "</html>", ""]
    return "\n".join(head)
