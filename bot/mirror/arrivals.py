"""Prompt mirroring: posts and web comments that another program stores (`threadbridge import`,
a script writing to the database) get mirrored within seconds, not at the next scheduled round.

SQLite's data_version, asked on the store's writer, changes only when another connection
commits, never for the bot's own writes (every Discord reply it stores). While it stays the
same, a check is that one PRAGMA. When it changed, a look at what arrived since the last look
(the newest post and comment ids, then only the rows after them) tells whether posts or web
comments wait for mirroring; only then does a round start.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable

from bot.log import get_logger
from bot.store import Store
from bot.store.arrivals import Arrivals, latest_arrivals, mirroring_waits_since

log = get_logger("threadbridge.mirror.arrivals")

CHECK_SECONDS = 1.0


class ArrivalWatch:
    """Watches the store for mirroring work stored by others; `run` until cancelled."""

    def __init__(
        self,
        store: Store,
        mirror: Callable[[], Awaitable[object]],
        *,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.store = store
        self._mirror = mirror
        self._check_seconds = check_seconds
        self._version: int | None = None
        self._seen: Arrivals | None = None
        self._failing = False

    async def run(self) -> None:
        """Check every `check_seconds`; when work arrived, mirror it (awaited: a long round
        holds the next check back, so rounds never pile up)."""
        await self._checked()  # where the store stands as the bot starts
        while True:
            await asyncio.sleep(self._check_seconds)
            if await self._checked():
                log.info("new posts or web comments in the store: mirroring now")
                await self._mirror()

    async def _checked(self) -> bool:
        try:
            arrived = await self.check()
        except sqlite3.Error as error:
            # The next check asks again; the scheduled rounds go on meanwhile.
            if not self._failing:
                log.warning("store not checked for new posts", reason=str(error))
            self._failing = True
            return False
        if self._failing:
            log.info("store checked for new posts again")
            self._failing = False
        return arrived

    async def check(self) -> bool:
        """Whether posts or web comments waiting for mirroring arrived since the last check.
        The first check only notes where the store stands: what waited before the bot started
        is mirrored when it connects."""
        version = await self.store.others_data_version()
        if version == self._version:
            return False
        latest = await latest_arrivals(self.store)
        since = self._seen
        waiting = False
        if since is not None and latest != since:
            # Rows deleted at the end of a table lower its newest id: look from the lower one.
            lower = Arrivals(
                last_post_id=min(since.last_post_id, latest.last_post_id),
                last_comment_id=min(since.last_comment_id, latest.last_comment_id),
            )
            waiting = await mirroring_waits_since(self.store, lower)
        # Only a check that went through moves on (one that failed is asked again).
        self._version, self._seen = version, latest
        return waiting
