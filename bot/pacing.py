"""Client-side pacing under Discord's global rate limit.

discord.py learns each route's limit from response headers, but the global limit (50 requests
per second per bot) only shows itself as a 429. Bursts such as a large import would hit it about
once a second; pacing below it keeps the bot clear of those 429s in steady state.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class Pacer:
    """At most `limit` calls in any `window` seconds (a sliding window, so bursts are allowed)."""

    def __init__(
        self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a pacer needs a positive limit and window")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def delay(self) -> float:
        """How long the next call must wait; 0 when it may go now."""
        now = self._clock()
        # The tolerance keeps float rounding from asking for endless nanosecond waits.
        while self._sent and now - self._sent[0] >= self.window - 1e-9:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self.window - (now - self._sent[0])

    async def wait(self) -> None:
        async with self._lock:
            while (pause := self.delay()) > 0:  # noqa: ASYNC110 - waiting for time, not an event
                await asyncio.sleep(pause)
            self._sent.append(self._clock())
