"""Build static/img/icons.svg, a sprite of the Lucide icons the templates use.

Run once after adding an icon name below:
    npm install --prefix /tmp/icons lucide-static simple-icons
    python scripts/build_icons.py /tmp/icons/node_modules
Lucide is ISC-licensed (https://lucide.dev); the brand marks come from Simple Icons (CC0).
"""

import re
import sys
from pathlib import Path

ICONS = {
    # sprite id: lucide file name
    "home": "house",
    "server": "server",
    "rocket": "rocket",
    "globe": "globe",
    "layout": "layout-template",
    "card": "credit-card",
    "activity": "activity",
    "settings": "settings",
    "zap": "zap",
    "shield": "shield-check",
    "cloud": "cloud",
    "logout": "log-out",
    "user": "user",
    "bell": "bell",
    "palette": "palette",
    "key": "key-round",
    "monitor": "monitor",
    "list": "list",
    "trash": "trash-2",
    "alert": "triangle-alert",
    "check": "check",
    "check-circle": "circle-check",
    "x": "x",
    "x-circle": "circle-x",
    "info": "info",
    "menu": "menu",
    "copy": "copy",
    "external": "external-link",
    "folder": "folder",
    "file": "file",
    "upload": "upload",
    "download": "download",
    "plus": "plus",
    "refresh": "refresh-cw",
    "clock": "clock",
    "git-branch": "git-branch",
    "git-commit": "git-commit-horizontal",
    "search": "search",
    "arrow-right": "arrow-right",
    "arrow-left": "arrow-left",
    "chevron-right": "chevron-right",
    "lock": "lock",
    "edit": "pencil",
    "eye": "eye",
    "terminal": "terminal",
    "database": "database",
    "hard-drive": "hard-drive",
    "undo": "undo-2",
    "loader": "loader-circle",
    "sun": "sun",
    "moon": "moon",
    "mail": "mail",
    "folder-plus": "folder-plus",
    "file-text": "file-text",
    "image": "image",
    "archive": "file-archive",
    "move": "move",
    "play": "play",
    "square": "square",
    "pause": "pause",
    "link": "link",
    "chart": "chart-column",
}


# Filled brand marks from simple-icons.
BRANDS = {"github": "github", "google": "google"}


def main(modules: Path) -> None:
    symbols = []
    for sprite_id, name in BRANDS.items():
        svg = (modules / "simple-icons" / "icons" / f"{name}.svg").read_text()
        path = re.search(r'<path d="([^"]+)"', svg).group(1)
        symbols.append(
            f'<symbol id="{sprite_id}" viewBox="0 0 24 24">'
            f'<path fill="currentColor" stroke="none" d="{path}"/></symbol>'
        )
    src = modules / "lucide-static" / "icons"
    for sprite_id, name in ICONS.items():
        svg = (src / f"{name}.svg").read_text()
        body = re.search(r"<svg[^>]*>(.*)</svg>", svg, re.S).group(1).strip()
        body = re.sub(r"\s+", " ", body)
        symbols.append(f'<symbol id="{sprite_id}" viewBox="0 0 24 24">{body}</symbol>')
    out = Path(__file__).resolve().parent.parent / "static" / "img" / "icons.svg"
    out.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">\n'
        + "\n".join(symbols)
        + "\n</svg>\n"
    )
    print(f"wrote {len(symbols)} icons to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
