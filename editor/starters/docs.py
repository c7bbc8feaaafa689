"""The documentation starter: a sidebar of sections beside readable text."""

from __future__ import annotations

from editor.starters.kit import PHONE, base_styles, document, el, footer, link, rule, text, topbar


def documentation() -> dict:
    colours = {
        "font": "system-ui, -apple-system, 'Segoe UI', sans-serif",
        "ink": "#0f172a",
        "paper": "#ffffff",
        "accent": "#2563eb",
        "muted": "#64748b",
    }
    styles = [
        *base_styles(**colours),
        rule(
            ".docs",
            display="grid",
            grid_template_columns="240px 1fr",
            gap="48px",
            max_width="1120px",
            margin="0 auto",
            padding="32px 24px 64px",
        ),
        rule(".sidebar", border_right="1px solid #e2e8f0", padding_right="24px"),
        rule(
            ".sidebar h4",
            text_transform="uppercase",
            font_size="12px",
            letter_spacing="0.08em",
            color="#94a3b8",
            margin="24px 0 8px",
        ),
        rule(
            ".side-link", display="block", padding="6px 0", color="#334155", text_decoration="none"
        ),
        rule(".content", min_width="0", max_width="720px"),
        rule(".content h1", font_size="40px", line_height="1.15", margin="0 0 12px"),
        rule(".content h2", font_size="24px", margin="40px 0 8px"),
        rule(
            ".code",
            display="block",
            background_color="#0f172a",
            color="#e2e8f0",
            padding="16px 20px",
            border_radius="10px",
            overflow_x="auto",
            font_family="ui-monospace, 'SFMono-Regular', Menlo, monospace",
            font_size="14px",
            white_space="pre",
        ),
        rule(
            ".note",
            background_color="#eff6ff",
            border="1px solid #bfdbfe",
            border_radius="10px",
            padding="14px 18px",
            color="#1e3a8a",
        ),
        rule(".docs", PHONE, grid_template_columns="1fr", gap="16px"),
        rule(
            ".sidebar",
            PHONE,
            border_right="none",
            border_bottom="1px solid #e2e8f0",
            padding="0 0 16px",
        ),
        rule(".content h1", PHONE, font_size="30px"),
    ]

    def sidebar():
        return el(
            "aside",
            "sidebar",
            text("h4", "", "Getting started"),
            link("/", "side-link", "Introduction"),
            link("/install/", "side-link", "Installation"),
            text("h4", "", "Guides"),
            link("/install/#configure", "side-link", "Configuration"),
        )

    intro = [
        topbar("Quill Docs"),
        el(
            "div",
            "docs",
            sidebar(),
            el(
                "main",
                "content",
                text("h1", "", "Introduction"),
                text("p", "muted", "Quill turns Markdown notes into a searchable team handbook."),
                text("h2", "", "Why Quill"),
                text(
                    "p",
                    "",
                    "Handbooks rot when editing them is a chore. Quill keeps pages in plain "
                    "files, checks links on every change and publishes in seconds.",
                ),
                text(
                    "p", "note", "New here? Follow the installation guide; it takes five minutes."
                ),
                link("/install/", "btn", "Install Quill"),
            ),
        ),
        footer("Quill is open source under the MIT licence."),
    ]
    install = [
        topbar("Quill Docs"),
        el(
            "div",
            "docs",
            sidebar(),
            el(
                "main",
                "content",
                text("h1", "", "Installation"),
                text("p", "", "Quill needs Python 3.11 or newer."),
                text("code", "code", "pip install quill-handbook\nquill init my-handbook"),
                el("h2", "", "Configuration", attrs={"id": "configure"}, kind="text"),
                text(
                    "p",
                    "",
                    "Settings live in quill.toml at the root of your handbook. The most "
                    "used ones are the title, the theme colour and the search language.",
                ),
                text("code", "code", '[handbook]\ntitle = "Acme handbook"\ncolour = "#2563eb"'),
            ),
        ),
        footer("Quill is open source under the MIT licence."),
    ]
    return {
        "slug": "documentation",
        "name": "Documentation",
        "category": "Product",
        "description": "Docs with a section sidebar, code samples and notes.",
        "pages": [
            {
                "slug": "introduction",
                "title": "Introduction — Quill Docs",
                "description": "What Quill is and why.",
                "document": document(intro, styles),
            },
            {
                "slug": "install",
                "title": "Installation — Quill Docs",
                "description": "Install and configure Quill.",
                "document": document(install, styles),
            },
        ],
    }
