"""Helpers that build GrapesJS components and style rules for the starters."""

from __future__ import annotations

PHONE = "(max-width: 768px)"


def t(content: str) -> dict:
    return {"type": "textnode", "content": content}


def el(tag: str, cls: str = "", *children, attrs: dict | None = None, kind: str | None = None):
    node: dict = {"tagName": tag}
    if kind:
        node["type"] = kind
    if cls:
        node["classes"] = cls.split()
    if attrs:
        node["attributes"] = attrs
    parts = [t(c) if isinstance(c, str) else c for c in children]
    if parts:
        node["components"] = parts
    return node


def text(tag: str, cls: str, content: str) -> dict:
    return el(tag, cls, content, kind="text")


def link(href: str, cls: str, content: str) -> dict:
    return el("a", cls, content, attrs={"href": href}, kind="link")


def nav(cls: str = "") -> dict:
    return {"type": "berth-nav", "tagName": "nav", "classes": ["berth-nav", *cls.split()]}


def rule(selector: str, media: str = "", **style) -> dict:
    """``.name`` becomes a class rule GrapesJS's style manager edits; anything else a raw
    selector. Style keys use underscores for dashes."""
    style = {k.replace("_", "-"): v for k, v in style.items()}
    if selector.startswith(".") and " " not in selector and ":" not in selector:
        data = {"selectors": selector[1:].split("."), "style": style}
    else:
        data = {"selectors": [], "selectorsAdd": selector, "style": style}
    if media:
        data.update(mediaText=media, atRuleType="media")
    return data


def document(components: list, styles: list) -> dict:
    return {
        "assets": [],
        "styles": styles,
        "pages": [{"frames": [{"component": {"type": "wrapper", "components": components}}]}],
        "symbols": [],
        "dataSources": [],
    }


def base_styles(*, font: str, ink: str, paper: str, accent: str, muted: str) -> list:
    """Type, layout and the navigation bar every starter shares, in its own colours."""
    return [
        rule("body", font_family=font, color=ink, background_color=paper, line_height="1.6"),
        rule(".wrap", max_width="1120px", margin="0 auto", padding="0 24px"),
        rule(
            ".topbar",
            display="flex",
            align_items="center",
            justify_content="space-between",
            gap="16px",
            padding="20px 24px",
            max_width="1120px",
            margin="0 auto",
            flex_wrap="wrap",
        ),
        rule(
            ".brand",
            font_weight="800",
            font_size="20px",
            color=ink,
            text_decoration="none",
            letter_spacing="-0.02em",
        ),
        rule(
            ".berth-nav ul",
            display="flex",
            flex_wrap="wrap",
            gap="6px 20px",
            list_style="none",
            margin="0",
            padding="0",
        ),
        rule(".berth-nav a", color=muted, text_decoration="none", font_weight="500"),
        rule(".berth-nav a:hover", color=accent),
        rule(".berth-nav a[aria-current]", color=accent),
        rule(
            ".btn",
            display="inline-block",
            padding="12px 22px",
            border_radius="10px",
            background_color=accent,
            color="#ffffff",
            text_decoration="none",
            font_weight="600",
        ),
        rule(
            ".btn-ghost",
            display="inline-block",
            padding="11px 21px",
            border_radius="10px",
            border=f"1px solid {muted}",
            color=ink,
            text_decoration="none",
            font_weight="600",
        ),
        rule(".footer", padding="40px 24px", text_align="center", color=muted, font_size="14px"),
        rule(".muted", color=muted),
        rule(".section", padding="72px 0"),
        rule(
            ".section-title",
            font_size="32px",
            line_height="1.2",
            margin="0 0 12px",
            letter_spacing="-0.02em",
        ),
        rule(".grid-3", display="grid", grid_template_columns="repeat(3, 1fr)", gap="24px"),
        rule(
            ".grid-2",
            display="grid",
            grid_template_columns="repeat(2, 1fr)",
            gap="32px",
            align_items="center",
        ),
        rule(".grid-3", PHONE, grid_template_columns="1fr"),
        rule(".grid-2", PHONE, grid_template_columns="1fr"),
        rule(".section", PHONE, padding="48px 0"),
        rule(".section-title", PHONE, font_size="26px"),
    ]


def topbar(brand: str) -> dict:
    return el("header", "topbar", link("/", "brand", brand), nav())


def footer(line: str) -> dict:
    return el("footer", "footer", text("p", "", line))
