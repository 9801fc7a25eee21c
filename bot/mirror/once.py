"""Making something in Discord once, when the answer to the call that makes it can be unclear.

A create answered with a 5xx, or not answered at all (a timeout, a dropped connection), may or
may not have been carried out. discord.py would repeat it on a 5xx without asking, and make a
second thread, starter or comment message; here the call is made under `single_attempt()`, and
after an unclear answer what it would have made is looked for. It is made again only when it is
really not there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

from bot.discord_helpers import describe_failure
from bot.internals import single_attempt
from bot.log import get_logger

T = TypeVar("T")

# Tries in all before the failure is left to the caller (whose next round looks again).
CREATE_ATTEMPTS = 3

# What leaves a create's outcome unknown: a server error, or no answer at all.
UNCLEAR_ANSWERS = (discord.DiscordServerError, aiohttp.ClientError, TimeoutError)

log = get_logger("threadbridge.mirror")


def pause(attempt: int) -> float:
    """Seconds to wait after the attempt's unclear answer: 1, 3, 5... as discord.py waits."""
    return 1.0 + 2 * (attempt - 1)


async def create_once(
    what: str,
    create: Callable[[], Awaitable[T]],
    find: Callable[[], Awaitable[T | None]],
) -> T:
    """What `create()` makes, made once: after an unclear answer, `find()` looks for it first.

    `find()` returns what an earlier attempt made, or None when it is not there. Raises the last
    unclear answer when nothing was found after CREATE_ATTEMPTS attempts, and any other failure
    (a 4xx: nothing was made) at once.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            with single_attempt():
                return await create()
        except UNCLEAR_ANSWERS as error:
            log.warning(
                "create unanswered, looking for it",
                what=what,
                status=error.status if isinstance(error, discord.HTTPException) else None,
                reason=describe_failure(error),
                attempt=attempt,
            )
            await asyncio.sleep(pause(attempt))
            found = await find()
            if found is not None:
                log.info("unanswered create found", what=what)
                return found
            if attempt >= CREATE_ATTEMPTS:
                log.warning("unanswered create not found, giving up for now", what=what)
                raise
            log.info("unanswered create not found, creating again", what=what)
