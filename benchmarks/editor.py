"""Editor publish-to-live: a 50-block page saved, rendered, written and made live.

Run: python benchmarks/editor.py [--rounds 20]  (prints p50 / p95 seconds from the save of a
changed document to the site's server answering with it; the target is p95 <= 2 s).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import _env

BLOCKS = 50


def document(round_number: int) -> dict:
    blocks = []
    for n in range(BLOCKS):
        blocks.append(
            {
                "tagName": "section",
                "classes": ["block", f"block-{n % 5}"],
                "components": [
                    {
                        "type": "text",
                        "tagName": "h2",
                        "components": [
                            {"type": "textnode", "content": f"Section {n} of round {round_number}"}
                        ],
                    },
                    {
                        "type": "text",
                        "tagName": "p",
                        "components": [{"type": "textnode", "content": "Words people read. " * 20}],
                    },
                    {"type": "link", "attributes": {"href": f"/page-{n}/"}, "components": "More"},
                ],
            }
        )
    styles = [{"selectors": [f"block-{n}"], "style": {"padding": f"{n + 1}0px"}} for n in range(5)]
    styles += [
        {
            "selectors": [f"block-{n}"],
            "style": {"padding": "8px"},
            "mediaText": "(max-width: 768px)",
            "atRuleType": "media",
        }
        for n in range(5)
    ]
    return {
        "pages": [{"frames": [{"component": {"type": "wrapper", "components": blocks}}]}],
        "styles": styles,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    _env.setup("editor")
    from django.core.asgi import get_asgi_application

    from editor import services
    from hosting.services import site_create
    from hosting.serving.app import HostRouter
    from hosting.tests.serving_support import asgi_get

    user = _env.owner()
    site = site_create(owner=user, name="Bench", slug="bench")
    page = services.page_create(site=site, title="Home", author=user)
    router = HostRouter(get_asgi_application())
    times = []
    for n in range(args.rounds):
        start = time.perf_counter()
        services.document_save(page=page, document=document(n), base_revision=None, author=user)
        services.site_publish(site=site, author=user)
        answer = asgi_get(router, site.hostname, "/")
        assert f"of round {n}<" in answer.body.decode(), answer.status
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(
        f"publish-to-live of a {BLOCKS}-block page, {args.rounds} rounds: "
        f"p50 {statistics.median(times):.3f} s, p95 {p95:.3f} s, max {times[-1]:.3f} s"
    )


if __name__ == "__main__":
    main()
