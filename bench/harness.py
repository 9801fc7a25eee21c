"""The bot as the benchmarks run it: started, ready, and closed however the bench ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.client import Threadbridge
from bot.settings import Settings
from bot.store import Store


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, store: Store, extensions: tuple[str, ...]
) -> AsyncIterator[Threadbridge]:
    """A logged-in, ready bot with only `extensions` loaded (no command sync); closed on exit."""
    bot = Threadbridge(settings=settings, store=store, extensions=extensions,
                       guild_ready_timeout=0.05, register_commands_on_start=False)
    await bot.login(settings.token)
    task = asyncio.create_task(bot.connect(), name="threadbridge")
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
