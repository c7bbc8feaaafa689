"""The editor's document: GrapesJS project data, checked and cleaned before it is stored.

A document is JSON the browser sends, so nothing in it is trusted: on every save it is parsed,
held to size and depth limits, and cleaned of what could run script (``<script>`` and other
active elements, ``on*`` handlers, ``javascript:`` and other non-web URLs, ``srcdoc``). What is
stored is the cleaned document, so the editor, previews and publishing only ever see that.
"""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_DEPTH = 60
MAX_NODES = 20_000

# Elements a page may hold. Anything else (script, style, link, meta, base, object, embed,
# frame, template, ...) is dropped with its contents.
ALLOWED_TAGS = frozenset(
    [
        "a",
        "abbr",
        "address",
        "article",
        "aside",
        "audio",
        "b",
        "bdi",
        "bdo",
        "blockquote",
        "br",
        "button",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "dd",
        "del",
        "details",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "i",
        "iframe",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "legend",
        "li",
        "main",
        "mark",
        "menu",
        "nav",
        "ol",
        "optgroup",
        "option",
        "output",
        "p",
        "picture",
        "pre",
        "progress",
        "q",
        "s",
        "samp",
        "section",
        "select",
        "small",
        "source",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "track",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
        "svg",
        "g",
        "path",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "rect",
        "text",
        "tspan",
        "defs",
        "lineargradient",
        "radialgradient",
        "stop",
        "title",
        "desc",
    ]
)
VOID_TAGS = frozenset(["br", "col", "hr", "img", "input", "source", "track", "wbr"])
URL_ATTRIBUTES = frozenset(
    ["href", "src", "action", "poster", "cite", "formaction", "srcset", "background"]
)
DROPPED_ATTRIBUTES = frozenset(["srcdoc", "xmlns:xlink", "xlink:href", "is", "style"])
ATTRIBUTE_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9_:.]{0,60}$")
SAFE_URL = re.compile(r"^(?:https?:|mailto:|tel:|#|/(?!/)|\./|\.\./|[^:/?#]*(?:[/?#]|$))", re.I)
DATA_IMAGE = re.compile(r"^data:image/(?:png|jpe?g|gif|webp|svg\+xml)[;,]", re.I)
CONTROL = re.compile(r"[\x00-\x20\x7f]+")

# Component types that never reach a page (GrapesJS's own script type among them).
DROPPED_TYPES = frozenset({"script", "style", "meta", "comment"})


class DocumentInvalid(ValidationError):
    pass


def url_is_safe(value: str, *, image: bool = False) -> bool:
    """A web link (http, https, mailto, tel, relative) - or a data: image where ``image``."""
    squeezed = CONTROL.sub("", value or "")
    if image and DATA_IMAGE.match(squeezed):
        return True
    return bool(SAFE_URL.match(squeezed))


def clean_attributes(tag: str, attributes) -> dict:
    """The attributes of an element that may stay: no handlers, no active URLs."""
    if not isinstance(attributes, dict):
        return {}
    out = {}
    for name, value in attributes.items():
        if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
            continue
        lower = name.lower()
        if lower.startswith("on") or lower in DROPPED_ATTRIBUTES:
            continue
        if isinstance(value, bool):
            if value:
                out[name] = True
            continue
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            continue
        if lower in URL_ATTRIBUTES:
            if lower == "srcset":
                if not all(
                    url_is_safe(part.strip().split(" ")[0], image=True)
                    for part in value.split(",")
                    if part.strip()
                ):
                    continue
            elif not url_is_safe(value, image=lower == "src" and tag in ("img", "source")):
                continue
            if tag == "iframe" and lower == "src" and not value.lower().startswith("https://"):
                continue  # embeds (maps, videos) come from https sites only
        out[name] = value[:4000]
    return out


class _Fragment(HTMLParser):
    """Raw HTML (a component's ``content``) as components, for the same cleaning."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = {"components": []}
        self.stack = [self.root]
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if self.skipping or tag not in ALLOWED_TAGS:
            if tag not in VOID_TAGS:
                self.skipping += 1
            return
        node = {"tagName": tag, "attributes": {k: (v if v is not None else True) for k, v in attrs}}
        self.stack[-1].setdefault("components", []).append(node)
        if tag not in VOID_TAGS:
            node["components"] = []
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        if not self.skipping and tag in ALLOWED_TAGS:
            node = {
                "tagName": tag,
                "attributes": {k: (v if v is not None else True) for k, v in attrs},
            }
            self.stack[-1].setdefault("components", []).append(node)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag not in VOID_TAGS:
                self.skipping -= 1
            return
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].get("tagName") == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self.skipping and data:
            self.stack[-1].setdefault("components", []).append(
                {"type": "textnode", "content": data}
            )


def fragment_components(html: str) -> list:
    parser = _Fragment()
    parser.feed(html)
    parser.close()
    return parser.root["components"]


class _Counter:
    def __init__(self):
        self.nodes = 0


def _clean_component(node, depth: int, counter: _Counter):
    if not isinstance(node, dict):
        if isinstance(node, str):
            return {"type": "textnode", "content": node}
        return None
    counter.nodes += 1
    if counter.nodes > MAX_NODES:
        raise DocumentInvalid(f"The page has more than {MAX_NODES:,} elements; split it up.")
    if depth > MAX_DEPTH:
        raise DocumentInvalid(f"Elements are nested more than {MAX_DEPTH} deep.")
    kind = node.get("type")
    if kind is not None and not isinstance(kind, str):
        return None
    if kind in DROPPED_TYPES:
        return None
    if kind == "textnode":
        content = node.get("content")
        return {"type": "textnode", "content": content if isinstance(content, str) else ""}
    tag = node.get("tagName")
    if tag is not None:
        if not isinstance(tag, str):
            return None
        tag = tag.lower()
        if tag not in ALLOWED_TAGS and kind != "wrapper":
            return None
    cleaned = dict(node)
    cleaned.pop("script", None)  # GrapesJS component scripts
    cleaned.pop("script-export", None)
    cleaned.pop("script-props", None)
    if tag is not None:
        cleaned["tagName"] = tag
    cleaned["attributes"] = clean_attributes(tag or "div", node.get("attributes"))
    if not cleaned["attributes"]:
        cleaned.pop("attributes")
    for prop in ("src", "href"):
        if prop in cleaned and not (
            isinstance(cleaned[prop], str) and url_is_safe(cleaned[prop], image=prop == "src")
        ):
            cleaned.pop(prop)
    children: list = []
    content = cleaned.pop("content", None)
    if isinstance(content, str) and content:
        if "<" not in content:
            cleaned["content"] = content  # plain text (GrapesJS writes it as HTML: no tags)
        else:
            children.extend(fragment_components(content))
    raw_children = cleaned.pop("components", None)
    if isinstance(raw_children, list):
        children.extend(raw_children)
    elif isinstance(raw_children, str) and raw_children:
        children.extend(fragment_components(raw_children))
    if children or isinstance(raw_children, list):
        cleaned["components"] = [
            c for c in (_clean_component(c, depth + 1, counter) for c in children) if c is not None
        ]
    if cleaned.get("classes") is not None:
        cleaned["classes"] = (
            [
                c
                for c in cleaned["classes"]
                if (isinstance(c, str) and CLASS_NAME.match(c))
                or (
                    isinstance(c, dict)
                    and isinstance(c.get("name"), str)
                    and CLASS_NAME.match(c["name"])
                )
            ]
            if isinstance(cleaned["classes"], list)
            else []
        )
    return cleaned


CLASS_NAME = re.compile(r"^-?[_a-zA-Z][-_a-zA-Z0-9]{0,80}$")
CSS_PROPERTY = re.compile(r"^(?:--[-_a-zA-Z0-9]{1,60}|-?[a-zA-Z][-a-zA-Z0-9]{0,60})$")
CSS_BAD_VALUE = re.compile(
    r"[<>{};\\]|expression\s*\(|javascript:|vbscript:|@import|behavior\s*:", re.I
)
CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.I)
MEDIA_TEXT = re.compile(r"^[-a-zA-Z0-9 :().,]{0,200}$")
SELECTOR_ADD = re.compile(r"^[-_a-zA-Z0-9 .#:>+~*()\[\]=\"',]{0,300}$")
STATE = re.compile(r"^[-a-zA-Z():]{0,40}$")


def css_value_is_safe(value: str) -> bool:
    if CSS_BAD_VALUE.search(value):
        return False
    return all(url_is_safe(url, image=True) for _, url in CSS_URL.findall(value))


def _clean_style(style) -> dict:
    if not isinstance(style, dict):
        return {}
    out = {}
    for prop, value in style.items():
        if not isinstance(prop, str) or not CSS_PROPERTY.match(prop):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and len(value) <= 2000 and css_value_is_safe(value):
            out[prop] = value
    return out


def _clean_rule(rule):
    if not isinstance(rule, dict):
        return None
    selectors = []
    for selector in rule.get("selectors") or []:
        name = selector.get("name") if isinstance(selector, dict) else selector
        if not isinstance(name, str):
            continue
        bare = name[1:] if name.startswith(("#", ".")) else name
        if not CLASS_NAME.match(bare):
            continue
        if isinstance(selector, dict):
            selector = {k: v for k, v in selector.items() if k in ("name", "type", "active")}
        selectors.append(selector)
    cleaned = {"selectors": selectors, "style": _clean_style(rule.get("style"))}
    for key, pattern in (
        ("selectorsAdd", SELECTOR_ADD),
        ("mediaText", MEDIA_TEXT),
        ("state", STATE),
    ):
        value = rule.get(key)
        if isinstance(value, str) and value and pattern.match(value):
            cleaned[key] = value
    at_rule = rule.get("atRuleType")
    if at_rule == "media":
        cleaned["atRuleType"] = "media"
    elif at_rule:
        return None  # font-face, keyframes, ...: not kept
    if not selectors and not cleaned.get("selectorsAdd"):
        return None
    return cleaned


def document_clean(data) -> dict:
    """The document as it may be stored, or DocumentInvalid saying what is wrong."""
    if not isinstance(data, dict):
        raise DocumentInvalid("The document must be a JSON object (GrapesJS project data).")
    pages = data.get("pages")
    if not isinstance(pages, list) or not pages:
        raise DocumentInvalid("The document has no page.")
    if len(pages) > 1:
        raise DocumentInvalid("A document holds one page; add pages to the site instead.")
    page = pages[0]
    frames = page.get("frames") if isinstance(page, dict) else None
    if not isinstance(frames, list) or not frames or not isinstance(frames[0], dict):
        raise DocumentInvalid("The page of the document has no frame.")
    wrapper = frames[0].get("component")
    if wrapper is None:
        wrapper = {"type": "wrapper", "components": []}
    if not isinstance(wrapper, dict):
        raise DocumentInvalid("The page's root component must be an object.")
    counter = _Counter()
    wrapper = _clean_component({**wrapper, "type": "wrapper"}, 0, counter) or {"type": "wrapper"}
    frame = {k: v for k, v in frames[0].items() if k in ("id",)}
    frame["component"] = wrapper
    clean_page = {k: v for k, v in page.items() if k in ("id", "type") and isinstance(v, str)}
    clean_page["frames"] = [frame]
    styles = data.get("styles") or []
    if not isinstance(styles, list):
        raise DocumentInvalid("The document's styles must be a list.")
    if len(styles) > MAX_NODES:
        raise DocumentInvalid(f"The page has more than {MAX_NODES:,} style rules.")
    assets = [
        {"src": a["src"], "type": "image"}
        for a in (data.get("assets") or [])
        if isinstance(a, dict)
        and isinstance(a.get("src"), str)
        and url_is_safe(a["src"], image=True)
    ]
    return {
        "assets": assets,
        "styles": [r for r in (_clean_rule(r) for r in styles) if r is not None],
        "pages": [clean_page],
        "symbols": [],
        "dataSources": [],
    }


def document_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def document_prepare(data) -> tuple[str, str]:
    """Clean ``data`` and answer (stored text, its sha256); too large a document is refused."""
    text = document_dumps(document_clean(data))
    limit = settings.EDITOR_DOCUMENT_MAX_SIZE
    if len(text.encode()) > limit:
        raise DocumentInvalid(
            f"The page's document is {len(text.encode()) / 1024 / 1024:.1f} MB; a page may hold "
            f"up to {limit / 1024 / 1024:.1f} MB. Split it into several pages or use fewer images "
            "pasted into the page (upload them instead)."
        )
    return text, hashlib.sha256(text.encode()).hexdigest()


def empty_document() -> dict:
    return {
        "assets": [],
        "styles": [],
        "pages": [{"frames": [{"component": {"type": "wrapper", "components": []}}]}],
        "symbols": [],
        "dataSources": [],
    }
