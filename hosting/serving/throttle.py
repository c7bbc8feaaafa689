"""A response body paced to a rate, as nginx's ``limit_rate`` paces it at the edge: a site
over its monthly bandwidth on a plan that slows it down is served at the plan's speed."""

from __future__ import annotations

import asyncio


class Throttled:
    """An ASGI ``send`` that paces ``http.response.body`` to ``rate`` bytes a second per
    response: the body goes out in slices, and after each one the sender waits until the
    bytes sent so far are within the rate."""

    # The clock and the wait, replaceable (tests run them on a virtual clock).
    clock = staticmethod(lambda: asyncio.get_running_loop().time())
    sleep = staticmethod(asyncio.sleep)

    def __init__(self, send, rate: int):
        self.send = send
        self.rate = max(1, int(rate))
        self.step = max(1024, self.rate // 8)
        self.started: float | None = None
        self.sent = 0

    async def __call__(self, message) -> None:
        body = message.get("body", b"") if message["type"] == "http.response.body" else b""
        if not body:
            await self.send(message)
            return
        if self.started is None:
            self.started = self.clock()
        more = message.get("more_body", False)
        for start in range(0, len(body), self.step):
            chunk = body[start : start + self.step]
            last = start + self.step >= len(body)
            await self.send(
                {"type": "http.response.body", "body": chunk, "more_body": more or not last}
            )
            self.sent += len(chunk)
            if last and not more:
                return  # the whole body is out: nothing left to pace
            ahead = self.sent / self.rate - (self.clock() - self.started)
            if ahead > 0:
                await self.sleep(ahead)
