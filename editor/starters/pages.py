"""Landing page, portfolio, blog article and coming-soon starters."""

from __future__ import annotations

from editor.starters.kit import PHONE, base_styles, document, el, footer, link, rule, text, topbar


def _page(slug, title, description, components, styles):
    return {
        "slug": slug,
        "title": title,
        "description": description,
        "document": document(components, styles),
    }


def landing() -> dict:
    colours = {
        "font": "'Inter', system-ui, -apple-system, 'Segoe UI', sans-serif",
        "ink": "#0f172a",
        "paper": "#ffffff",
        "accent": "#4f46e5",
        "muted": "#64748b",
    }
    styles = [
        *base_styles(**colours),
        rule(
            ".hero",
            padding="96px 24px 80px",
            text_align="center",
            background_image="radial-gradient(circle at 20% 0%, #e0e7ff 0, transparent 45%), "
            "radial-gradient(circle at 90% 10%, #fce7f3 0, transparent 40%)",
        ),
        rule(
            ".eyebrow",
            display="inline-block",
            padding="6px 12px",
            border_radius="999px",
            background_color="#eef2ff",
            color="#4338ca",
            font_size="13px",
            font_weight="600",
        ),
        rule(
            ".hero-title",
            font_size="56px",
            line_height="1.05",
            letter_spacing="-0.03em",
            margin="20px auto 16px",
            max_width="800px",
        ),
        rule(
            ".hero-lead", font_size="20px", color="#475569", max_width="640px", margin="0 auto 32px"
        ),
        rule(".actions", display="flex", gap="12px", justify_content="center", flex_wrap="wrap"),
        rule(
            ".feature",
            padding="28px",
            border="1px solid #e2e8f0",
            border_radius="16px",
            background_color="#ffffff",
        ),
        rule(
            ".feature-icon",
            width="44px",
            height="44px",
            border_radius="12px",
            background_image="linear-gradient(135deg, #6366f1, #ec4899)",
            margin_bottom="16px",
        ),
        rule(".feature h3", margin="0 0 8px", font_size="19px"),
        rule(
            ".quote",
            font_size="24px",
            line_height="1.5",
            max_width="760px",
            margin="0 auto",
            text_align="center",
            font_weight="500",
        ),
        rule(
            ".cta",
            border_radius="24px",
            padding="56px 32px",
            text_align="center",
            color="#ffffff",
            background_image="linear-gradient(135deg, #4f46e5, #7c3aed)",
        ),
        rule(".cta .btn", background_color="#ffffff", color="#4f46e5"),
        rule(".hero-title", PHONE, font_size="38px"),
        rule(".hero", PHONE, padding="64px 20px 56px"),
    ]
    features = [
        (
            "Fast by default",
            "Pages are plain HTML and CSS, served from the edge the moment you publish.",
        ),
        (
            "Edit in place",
            "Click any text to change it, drag blocks to add sections, and see it live.",
        ),
        ("Undo anything", "Every save is kept. Restore an older version or roll back a release."),
    ]
    home = [
        topbar("Launchpad"),
        el(
            "section",
            "hero",
            text("span", "eyebrow", "New: version 2.0 is here"),
            text("h1", "hero-title", "Ship your idea to the world this afternoon"),
            text(
                "p",
                "hero-lead",
                "Launchpad gives your product a home that loads instantly, "
                "looks great on every screen and grows with you.",
            ),
            el(
                "div",
                "actions",
                link("/pricing/", "btn", "See pricing"),
                link("#features", "btn-ghost", "How it works"),
            ),
        ),
        el(
            "section",
            "section",
            el(
                "div",
                "wrap grid-3",
                *[
                    el(
                        "div",
                        "feature",
                        el("div", "feature-icon"),
                        text("h3", "", h),
                        text("p", "muted", p),
                    )
                    for h, p in features
                ],
            ),
            attrs={"id": "features"},
        ),
        el(
            "section",
            "section",
            el(
                "div",
                "wrap",
                text(
                    "p",
                    "quote",
                    "“We moved our launch page over in an hour and our sign-ups went "
                    "up the same week.”",
                ),
                text("p", "muted center", "— Priya Raman, founder of Northwind"),
            ),
        ),
        el(
            "section",
            "section",
            el(
                "div",
                "wrap",
                el(
                    "div",
                    "cta",
                    text("h2", "section-title", "Ready when you are"),
                    text("p", "", "Start free. Upgrade when your audience does."),
                    link("/pricing/", "btn", "Get started"),
                ),
            ),
        ),
        footer("© Launchpad. Made with Berth."),
    ]
    plan_styles = [
        *styles,
        rule(".plan", padding="32px", border="1px solid #e2e8f0", border_radius="16px"),
        rule(
            ".plan-featured",
            border="2px solid #4f46e5",
            box_shadow="0 20px 40px -20px rgba(79, 70, 229, 0.45)",
        ),
        rule(".price", font_size="40px", font_weight="800", margin="8px 0"),
        rule(".plan ul", padding_left="20px", color="#475569"),
        rule(".center", text_align="center"),
    ]
    plans = [
        ("Starter", "€0", "One site, community support", "plan"),
        ("Growth", "€12", "Ten sites, custom domains, backups", "plan plan-featured"),
        ("Team", "€39", "Unlimited sites, roles, audit log", "plan"),
    ]
    pricing = [
        topbar("Launchpad"),
        el(
            "section",
            "section",
            el(
                "div",
                "wrap",
                text("h1", "section-title center", "Simple pricing"),
                text("p", "muted center", "Every plan includes HTTPS, previews and rollbacks."),
                el(
                    "div",
                    "grid-3",
                    *[
                        el(
                            "div",
                            cls,
                            text("h3", "", name),
                            text("p", "price", price + " / month"),
                            text("p", "muted", what),
                            link("/", "btn", "Choose " + name),
                        )
                        for name, price, what, cls in plans
                    ],
                ),
            ),
        ),
        footer("© Launchpad. Made with Berth."),
    ]
    styles.append(rule(".center", text_align="center"))
    return {
        "slug": "landing",
        "name": "Landing page",
        "category": "Business",
        "description": "A product launch page with a hero, features, a testimonial and pricing.",
        "pages": [
            _page("home", "Launchpad", "Ship your idea to the world this afternoon.", home, styles),
            _page("pricing", "Pricing", "Plans for every stage.", pricing, plan_styles),
        ],
    }


def portfolio() -> dict:
    colours = {
        "font": "'Georgia', 'Times New Roman', serif",
        "ink": "#1c1917",
        "paper": "#fafaf9",
        "accent": "#b45309",
        "muted": "#78716c",
    }
    styles = [
        *base_styles(**colours),
        rule(".intro", padding="80px 24px 40px", max_width="1120px", margin="0 auto"),
        rule(
            ".intro h1",
            font_size="52px",
            line_height="1.1",
            margin="0 0 16px",
            max_width="760px",
            font_weight="400",
        ),
        rule(
            ".work",
            border_radius="14px",
            overflow="hidden",
            background_color="#ffffff",
            border="1px solid #e7e5e4",
        ),
        rule(".work-art", height="220px"),
        rule(".art-1", background_image="linear-gradient(135deg, #fde68a, #f97316)"),
        rule(".art-2", background_image="linear-gradient(135deg, #a7f3d0, #0ea5e9)"),
        rule(".art-3", background_image="linear-gradient(135deg, #ddd6fe, #db2777)"),
        rule(".art-4", background_image="linear-gradient(135deg, #fecaca, #7c2d12)"),
        rule(".work-body", padding="20px"),
        rule(".work-body h3", margin="0 0 4px", font_size="20px"),
        rule(".intro h1", PHONE, font_size="36px"),
    ]
    works = [
        ("Harbour identity", "Brand system for a ferry line", "art-1"),
        ("Tidal app", "Tide tables people enjoy reading", "art-2"),
        ("Bloom festival", "Posters, tickets and wayfinding", "art-3"),
        ("Kiln & Co.", "Packaging for a ceramics studio", "art-4"),
    ]
    home = [
        topbar("Ada Lindqvist"),
        el(
            "section",
            "intro",
            text("h1", "", "Designer of calm, useful things for people and places."),
            text(
                "p",
                "muted",
                "Independent designer in Gothenburg. Available for projects from March.",
            ),
        ),
        el(
            "section",
            "section",
            el(
                "div",
                "wrap grid-2",
                *[
                    el(
                        "article",
                        "work",
                        el("div", "work-art " + art),
                        el("div", "work-body", text("h3", "", title), text("p", "muted", what)),
                    )
                    for title, what, art in works
                ],
            ),
        ),
        footer("© Ada Lindqvist · hello@example.com"),
    ]
    about = [
        topbar("Ada Lindqvist"),
        el(
            "section",
            "intro",
            text("h1", "", "About me"),
            text(
                "p",
                "",
                "I have spent twelve years helping studios, public services and small "
                "shops explain themselves clearly. I work alone or with a small circle of "
                "developers and photographers.",
            ),
            text(
                "p",
                "",
                "Clients include the Port of Gothenburg, Tidal Labs and the Bloom festival.",
            ),
            link("mailto:hello@example.com", "btn", "Start a project"),
        ),
        footer("© Ada Lindqvist · hello@example.com"),
    ]
    return {
        "slug": "portfolio",
        "name": "Portfolio",
        "category": "Personal",
        "description": "Show your work in a calm grid, with an about page.",
        "pages": [
            _page("work", "Ada Lindqvist — Work", "Selected projects.", home, styles),
            _page("about", "About", "Who I am and how I work.", about, styles),
        ],
    }


def blog() -> dict:
    colours = {
        "font": "'Charter', 'Iowan Old Style', Georgia, serif",
        "ink": "#111827",
        "paper": "#ffffff",
        "accent": "#059669",
        "muted": "#6b7280",
    }
    styles = [
        *base_styles(**colours),
        rule(".article", max_width="700px", margin="0 auto", padding="56px 24px"),
        rule(
            ".article h1",
            font_size="44px",
            line_height="1.15",
            margin="8px 0 16px",
            letter_spacing="-0.02em",
        ),
        rule(
            ".meta",
            color="#6b7280",
            font_size="15px",
            font_family="system-ui, -apple-system, sans-serif",
        ),
        rule(
            ".cover",
            height="320px",
            border_radius="16px",
            margin="32px 0",
            background_image="linear-gradient(120deg, #064e3b, #10b981 60%, #a7f3d0)",
        ),
        rule(".article p", font_size="20px", line_height="1.75"),
        rule(".article h2", font_size="28px", margin="40px 0 8px"),
        rule(
            ".pull",
            border_left="4px solid #059669",
            padding="4px 0 4px 20px",
            font_style="italic",
            color="#374151",
            margin="32px 0",
        ),
        rule(".article h1", PHONE, font_size="32px"),
        rule(".cover", PHONE, height="200px"),
        rule(".article p", PHONE, font_size="18px"),
    ]
    article = [
        topbar("Field Notes"),
        el(
            "article",
            "article",
            text("p", "meta", "Essay · 6 minute read"),
            text("h1", "", "What a year of growing tomatoes taught me about shipping software"),
            text("p", "meta", "By Sam Okafor"),
            el("div", "cover"),
            text(
                "p",
                "",
                "The first seedlings came up in March, pale and leggy, stretching toward "
                "a window that never gave them enough light. I did what every beginner does: "
                "I watered them more.",
            ),
            text("h2", "", "Small batches, often"),
            text(
                "p",
                "",
                "The plants that did best were the ones I checked every day, a little "
                "at a time. The same is true of releases: small changes, shipped often, are "
                "easier to understand and easier to undo.",
            ),
            text("blockquote", "pull", "Good soil is patience you can hold in your hand."),
            text("h2", "", "Prune what does not fruit"),
            text(
                "p",
                "",
                "Side shoots steal energy from the fruit. So do features nobody uses. "
                "Cutting them felt wasteful, and then it felt like relief.",
            ),
        ),
        footer("Field Notes · a newsletter about slow work"),
    ]
    about = [
        topbar("Field Notes"),
        el(
            "article",
            "article",
            text("h1", "", "About Field Notes"),
            text(
                "p",
                "",
                "A monthly letter about gardens, craft and the software in between. "
                "Written by Sam Okafor from a small allotment in Leeds.",
            ),
        ),
        footer("Field Notes · a newsletter about slow work"),
    ]
    return {
        "slug": "blog-article",
        "name": "Blog article",
        "category": "Writing",
        "description": "A readable long-form article with a cover, pull quote and about page.",
        "pages": [
            _page(
                "tomatoes",
                "What a year of growing tomatoes taught me",
                "Small batches, often.",
                article,
                styles,
            ),
            _page("about", "About Field Notes", "A monthly letter about slow work.", about, styles),
        ],
    }


def coming_soon() -> dict:
    colours = {
        "font": "system-ui, -apple-system, 'Segoe UI', sans-serif",
        "ink": "#f8fafc",
        "paper": "#020617",
        "accent": "#22d3ee",
        "muted": "#94a3b8",
    }
    styles = [
        *base_styles(**colours),
        rule(
            ".soon",
            min_height="100vh",
            display="flex",
            flex_direction="column",
            align_items="center",
            justify_content="center",
            text_align="center",
            padding="48px 24px",
            background_image="radial-gradient(circle at 50% 0%, #164e63 0, transparent 55%), "
            "radial-gradient(circle at 100% 100%, #312e81 0, transparent 45%)",
        ),
        rule(
            ".logo-mark",
            width="64px",
            height="64px",
            border_radius="18px",
            margin_bottom="28px",
            background_image="conic-gradient(from 180deg, #22d3ee, #a78bfa, #f472b6, #22d3ee)",
        ),
        rule(
            ".soon h1",
            font_size="60px",
            line_height="1.05",
            margin="0 0 16px",
            letter_spacing="-0.03em",
        ),
        rule(".soon p", font_size="20px", color="#cbd5e1", max_width="560px", margin="0 0 32px"),
        rule(
            ".badge",
            font_size="13px",
            letter_spacing="0.2em",
            text_transform="uppercase",
            color="#22d3ee",
            margin_bottom="12px",
        ),
        rule(".soon h1", PHONE, font_size="40px"),
    ]
    page = [
        el(
            "main",
            "soon",
            el("div", "logo-mark"),
            text("p", "badge", "Launching spring"),
            text("h1", "", "Something bright is on its way"),
            text(
                "p",
                "",
                "We are putting the finishing touches on Aurora. Leave us a note and "
                "we will tell you the day it opens.",
            ),
            link("mailto:hello@example.com?subject=Tell%20me%20when", "btn", "Tell me when"),
        ),
    ]
    return {
        "slug": "coming-soon",
        "name": "Coming soon",
        "category": "Launch",
        "description": "A single bold page that holds your address until launch day.",
        "pages": [
            _page("home", "Aurora — coming soon", "Something bright is on its way.", page, styles)
        ],
    }
