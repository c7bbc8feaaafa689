"""The local business starter: a café with opening hours, a menu and a contact form."""

from __future__ import annotations

from editor.starters.kit import PHONE, base_styles, document, el, footer, link, rule, text, topbar


def local_business() -> dict:
    colours = {
        "font": "'Avenir Next', 'Segoe UI', system-ui, sans-serif",
        "ink": "#292524",
        "paper": "#fffbeb",
        "accent": "#c2410c",
        "muted": "#78716c",
    }
    styles = [
        *base_styles(**colours),
        rule(
            ".banner",
            padding="88px 24px",
            color="#ffffff",
            text_align="center",
            background_image="linear-gradient(rgba(41, 37, 36, 0.55), rgba(41, 37, 36, 0.55)), "
            "linear-gradient(135deg, #9a3412, #f59e0b)",
        ),
        rule(".banner h1", font_size="52px", margin="0 0 12px", letter_spacing="-0.02em"),
        rule(".banner p", font_size="20px", margin="0 0 28px"),
        rule(
            ".card",
            background_color="#ffffff",
            border_radius="16px",
            padding="28px",
            box_shadow="0 10px 30px -15px rgba(120, 53, 15, 0.35)",
        ),
        rule(".hours", width="100%", border_collapse="collapse"),
        rule(".hours td", padding="8px 0", border_bottom="1px solid #f5f5f4"),
        rule(
            ".menu-item",
            display="flex",
            justify_content="space-between",
            gap="16px",
            padding="10px 0",
            border_bottom="1px dashed #e7e5e4",
        ),
        rule(".form", display="grid", gap="12px"),
        rule(
            ".input",
            width="100%",
            padding="12px 14px",
            border="1px solid #d6d3d1",
            border_radius="10px",
            font="inherit",
            background_color="#ffffff",
        ),
        rule(".banner h1", PHONE, font_size="36px"),
    ]
    hours = [
        ("Monday – Friday", "7:00 – 18:00"),
        ("Saturday", "8:00 – 17:00"),
        ("Sunday", "9:00 – 15:00"),
    ]
    menu = [
        ("Flat white", "€3.40"),
        ("Cardamom bun", "€3.80"),
        ("Sourdough toast & jam", "€5.50"),
        ("Seasonal soup", "€7.90"),
    ]
    home = [
        topbar("Corner Café"),
        el(
            "section",
            "banner",
            text("h1", "", "Coffee, buns and a good seat by the window"),
            text("p", "", "Baked every morning on Harbour Street since 2014."),
            link("/visit/", "btn", "Plan your visit"),
        ),
        el(
            "section",
            "section",
            el(
                "div",
                "wrap grid-2",
                el(
                    "div",
                    "card",
                    text("h2", "section-title", "Opening hours"),
                    el(
                        "table",
                        "hours",
                        el(
                            "tbody",
                            "",
                            *[
                                el("tr", "", text("td", "", day), text("td", "muted", time))
                                for day, time in hours
                            ],
                        ),
                    ),
                ),
                el(
                    "div",
                    "card",
                    text("h2", "section-title", "Favourites"),
                    *[
                        el("div", "menu-item", text("span", "", name), text("span", "muted", price))
                        for name, price in menu
                    ],
                ),
            ),
        ),
        footer("Corner Café · 12 Harbour Street · 031-123 45 67"),
    ]
    visit = [
        topbar("Corner Café"),
        el(
            "section",
            "section",
            el(
                "div",
                "wrap grid-2",
                el(
                    "div",
                    "",
                    text("h1", "section-title", "Visit us"),
                    text(
                        "p",
                        "",
                        "12 Harbour Street, by the old ferry terminal. Step-free entrance, "
                        "dogs welcome, bikes at the front.",
                    ),
                    text("p", "muted", "Groups of eight or more: send us a note a day ahead."),
                ),
                el(
                    "form",
                    "card form",
                    text("h2", "", "Send us a note"),
                    el(
                        "input",
                        "input",
                        attrs={"type": "text", "name": "name", "placeholder": "Your name"},
                    ),
                    el(
                        "input",
                        "input",
                        attrs={"type": "email", "name": "email", "placeholder": "Email"},
                    ),
                    el(
                        "textarea",
                        "input",
                        attrs={"name": "message", "rows": "4", "placeholder": "Message"},
                    ),
                    el("button", "btn", "Send", attrs={"type": "submit"}),
                    attrs={"action": "mailto:hello@example.com", "method": "post"},
                ),
            ),
        ),
        footer("Corner Café · 12 Harbour Street · 031-123 45 67"),
    ]
    return {
        "slug": "local-business",
        "name": "Local business",
        "category": "Business",
        "description": "A café or shop: welcome banner, opening hours, menu and a contact form.",
        "pages": [
            {
                "slug": "home",
                "title": "Corner Café",
                "description": "Coffee and buns on Harbour Street.",
                "document": document(home, styles),
            },
            {
                "slug": "visit",
                "title": "Visit Corner Café",
                "description": "Find us and get in touch.",
                "document": document(visit, styles),
            },
        ],
    }
