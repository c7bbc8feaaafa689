"""The starter templates shipped with Berth, as GrapesJS project data built from small helpers.

Each starter is a list of pages; each page's document uses the same few pieces: text elements
GrapesJS edits in place, links between the pages, the site navigation block (``berth-nav``,
filled with the site's pages when published), and CSS rules by class with phone-width media
rules, so every starter is responsive. Images are drawn with CSS (gradients), so a new site
needs no uploads to look finished.
"""

from __future__ import annotations

from editor.starters import business, docs, pages


def load_starters() -> list[dict]:
    return [
        pages.landing(),
        pages.portfolio(),
        pages.blog(),
        docs.documentation(),
        business.local_business(),
        pages.coming_soon(),
    ]
