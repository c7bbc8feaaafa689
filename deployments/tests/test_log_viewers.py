"""Two hundred viewers of one build's live log through one real daphne (Redis channel layer
when REDIS_URL is set); clients without access are told so (close codes 4401 and 4404).

Half the viewers ask for lines batched (``?batch=1``, as the log page does), half one message
per line. Each behaves as the log page does: a handshake that fails or a connection that drops
is retried after 0.5 s (doubling), resuming with ``?after=<last seq>``. Whatever the retries,
every viewer must end with every stored line once and in order, then ``deployment_complete``.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from accounts.services import personal_token_create, token_issue
from conftest import bearer_client, make_user
from deployments.models import Deployment, LogLine
from deployments.tests.factories import STATIC_SITE, make_repo
from deployments.tests.test_pipeline import deploy, final
from teams.models import Membership, Role
from teams.services import team_create, team_switch

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VIEWERS = 200
LINES = 1000
ORIGIN = "http://localhost:8000"
PRINTER = (
    "#!/bin/sh\nset -e\n"
    f"i=0; while [ $i -lt {LINES} ]; do i=$((i+1)); echo line $i; "
    "case $i in *0) sleep 0.05;; esac; done\n"
    "mkdir -p dist\ncp index.html dist/\n"
)


class Viewer:
    def __init__(self, url: str):
        self.url = url
        self.seqs: list[int] = []
        self.events: list[dict] = []
        self.retries = 0

    async def follow(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        delay = 0.5
        while True:
            after = self.seqs[-1] if self.seqs else 0
            try:
                async with connect(
                    f"{self.url}&after={after}", origin=ORIGIN, open_timeout=10, max_size=None
                ) as socket:
                    delay = 0.5
                    async for raw in socket:
                        event = json.loads(raw)
                        self.events.append(event)
                        if event["type"] == "logs":  # a batch client (?batch=1)
                            self.seqs.extend(line["seq"] for line in event["lines"])
                        elif event["type"] == "log":
                            self.seqs.append(event["seq"])
                        elif event["type"] == "deployment_complete":
                            return
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed):
                # A handshake not accepted within daphne's 5 s (answered 403) or a connection
                # cut: tried again, as the page does (a viewer always refused never finishes).
                pass
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


async def close_code(url: str) -> int | None:
    """The code a connection is closed with before any event (None: it got an event). A
    handshake that times out in the crowd is tried again."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    for _attempt in range(10):
        try:
            async with connect(url, origin=ORIGIN, open_timeout=30) as socket:
                try:
                    await asyncio.wait_for(socket.recv(), timeout=60)
                except ConnectionClosed as exc:
                    return exc.rcvd.code if exc.rcvd else None
                return None
        except (OSError, TimeoutError, InvalidHandshake):
            await asyncio.sleep(1)
    raise AssertionError(f"no answer from {url}")


def test_two_hundred_viewers_of_one_build_and_no_one_else(
    api, alice, bob, tmp_path, daphne, worker
):
    acme = team_create(owner=alice, name="Acme")
    Membership.objects.create(team=acme, user=bob, role=Role.VIEWER)
    other = team_create(owner=alice, name="Other")
    team_switch(user=alice, team=acme)
    carol = make_user("carol@example.com", "Carol Outsider")
    repo = make_repo(tmp_path / "printer", {**STATIC_SITE, "build.sh": PRINTER})
    created = deploy(api, repo)
    stream = f"ws://127.0.0.1:{daphne.port}/api/deployments/{created['id']}/logs/stream"
    tokens = {
        "alice (owner)": api.token.access,
        "bob (viewer)": bearer_client(bob).token.access,
    }
    outsiders = {
        "no token": (stream, 4401),
        "a forged token": (f"{stream}?token=brt_forged", 4401),
        "a member of no team of the site": (
            f"{stream}?token={token_issue(user=carol).access}",
            4404,
        ),
        "the owner's token for another team": (
            f"{stream}?token={personal_token_create(user=alice, name='CI', team=other).access}",
            4404,
        ),
    }

    async def watch():
        viewers = [  # owner and viewer, each as the log page (batched) and line by line
            Viewer(f"{stream}?token={tokens[name]}{batch}")
            for name in tokens
            for batch in ("&batch=1", "")
            for _ in range(VIEWERS // 4)
        ]
        codes = await asyncio.gather(
            *(close_code(url) for url, _ in outsiders.values()),
            asyncio.wait_for(asyncio.gather(*(v.follow() for v in viewers)), timeout=240),
        )
        return viewers, dict(zip(outsiders, codes[:-1], strict=True))

    viewers, codes = asyncio.run(watch())
    deployment = final(created["id"])
    assert deployment.status == Deployment.Status.SUCCESS, deployment.error
    stored = list(
        LogLine.objects.filter(deployment=deployment).order_by("seq").values_list("seq", flat=True)
    )
    assert len(stored) > LINES
    for viewer in viewers:
        assert viewer.seqs == stored, "a viewer missed, repeated or reordered lines"
        assert viewer.events[-1]["status"] == "success"
    assert codes == {name: code for name, (_, code) in outsiders.items()}, "an outsider got in"
    print(f"{VIEWERS} viewers, {sum(v.retries for v in viewers)} reconnects")
