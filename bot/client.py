"""The bot itself: a commands.Bot that is handed its settings and store by the entry point."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands

from bot.background import BackgroundTasks
from bot.clock import utcnow
from bot.discord_helpers import point_discord_at
from bot.internals import pace_requests, single_attempt_trace
from bot.log import get_logger
from bot.pacing import Pacer
from bot.preflight import check_connected
from bot.rate_limits import RateLimitCounter
from bot.services import build_services
from bot.settings import Settings
from bot.store import Store
from bot.store.health import RATE_LIMITED, count_event
from bot.store.meta import get_meta, set_meta
from bot.tree import ThreadbridgeTree

# Discord allows 50 requests per second per bot. Route buckets come back in X-RateLimit-*
# headers and discord.py paces them itself; the global count never does (only a 429 shows it),
# so it is paced here from the documented number. The pacer lets the full 50 go in any 1.02 s
# (a sliding window): however Discord lays out its 1 s windows, 51 requests reach one only if
# two requests 50 apart are delayed on the way by amounts that differ by more than 20 ms, which
# is several times the usual jitter of a warm connection. The margin is in the window, not in
# the count: 49 a window cost a whole extra window whenever a burst is a multiple of 50
# (500 thread creations took 11 windows, not 10).
GLOBAL_PACE = 50
GLOBAL_PACE_WINDOW = 1.02

# Loaded in this order by setup_hook; one module per capability.
EXTENSIONS: tuple[str, ...] = (
    "cogs.admin",
    "cogs.mirror",
    "cogs.comments",
    "cogs.moderation",
    "cogs.digest",
)


def bot_intents() -> discord.Intents:
    """Only what the bot uses. message_content is privileged: enable it in the developer portal."""
    intents = discord.Intents.none()
    intents.guilds = True  # channels and threads
    intents.guild_messages = True  # replies in post threads
    intents.message_content = True  # the text of those replies
    intents.guild_reactions = True  # reaction counts per comment
    return intents


HEALTH_FLUSH_MINUTES = 10


async def flush_health_counters(bot: Threadbridge) -> None:
    """Scheduled job: store the 429s counted since the last flush, for the digest."""
    seen = bot.rate_limits.take()
    if seen:
        await count_event(bot.store, RATE_LIMITED, bot.clock(), seen)


class Threadbridge(commands.Bot):
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        extensions: tuple[str, ...] = EXTENSIONS,
        guild_ready_timeout: float = 2.0,
        register_commands_on_start: bool = True,
        one_shot: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`one_shot`: built for a command that does one thing and exits (register-commands):
        the cogs load, so their slash commands exist, but no scheduler, job or background
        service starts, and the commands are not registered on start."""
        point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
        intents = bot_intents()
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=ThreadbridgeTree,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.from_intents(intents),
            guild_ready_timeout=guild_ready_timeout,
            # Creates made under bot.internals.single_attempt() are not retried on a 5xx.
            http_trace=single_attempt_trace(),
        )
        self.settings = settings
        self.store = store
        # Scheduled work asks this for the time, so tests can move it without waiting.
        self.clock = clock
        self.log = get_logger("threadbridge.bot")
        self.background = BackgroundTasks(self.log)
        self.scheduler = AsyncIOScheduler(
            timezone=settings.tzinfo,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
        )
        self.pacer = Pacer(GLOBAL_PACE, GLOBAL_PACE_WINDOW)
        pace_requests(self, self._wait_for_pace)
        self.rate_limits = RateLimitCounter()
        self._extension_names = extensions
        self._register_commands_on_start = register_commands_on_start and not one_shot
        self.one_shot = one_shot
        self.failed_extensions: list[str] = []
        self.services = build_services(self)

    async def _wait_for_pace(self, route: discord.http.Route) -> None:
        """Every REST call of the bot waits its turn under the global limit (see bot.pacing).
        Interaction callbacks are exempt from the global limit, and users are waiting."""
        if not route.path.startswith("/interactions/"):
            await self.pacer.wait()

    @property
    def guild_object(self) -> discord.Object:
        assert self.settings.guild_id is not None
        return discord.Object(self.settings.guild_id)

    async def setup_hook(self) -> None:
        if not self.one_shot:
            await self.services.start()
        for name in self._extension_names:
            try:
                await self.load_extension(name)
            except commands.ExtensionError as error:
                self.failed_extensions.append(name)
                self.log.error("extension failed to load", extension=name, exc_info=error)
        if self.one_shot:
            return
        logging.getLogger("discord.http").addFilter(self.rate_limits)
        self.scheduler.add_job(
            flush_health_counters,
            "interval",
            minutes=HEALTH_FLUSH_MINUTES,
            id="health-flush",
            replace_existing=True,
            kwargs={"bot": self},
        )
        self.scheduler.start()
        if self._register_commands_on_start:
            await self.register_commands_if_changed()

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        logging.getLogger("discord.http").removeFilter(self.rate_limits)
        try:
            await flush_health_counters(self)
        except sqlite3.Error as error:
            # The database may be what is failing: the writer's stop below must still run.
            self.log.warning("rate-limit counts not saved", error=str(error))
        await self.background.cancel_all()
        await super().close()
        await self.services.stop()

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: skip commands.Bot's parsing of every message for one."""

    async def on_ready(self) -> None:
        assert self.user is not None
        self.log.info("connected", user=self.user.id, guild=self.settings.guild_id)
        for problem in check_connected(self, self.settings):
            self.log.warning("set-up problem", problem=problem.what, fix=problem.fix)

    def command_tree_hash(self) -> str:
        """A fingerprint of the commands as Discord would receive them for our guild."""
        self.tree.copy_global_to(guild=self.guild_object)
        payload = [
            command.to_dict(self.tree)
            for command in self.tree.get_commands(guild=self.guild_object)
        ]
        payload.sort(key=lambda item: (item.get("type", 1), item["name"]))
        encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(encoded).hexdigest()

    def _tree_hash_key(self) -> str:
        return f"command_tree_hash:{self.settings.guild_id}"

    async def register_commands(self) -> int:
        """Register the slash commands with Discord for our guild (discord.py calls this a
        tree sync); returns how many."""
        fingerprint = self.command_tree_hash()
        synced = await self.tree.sync(guild=self.guild_object)
        await set_meta(self.store, self._tree_hash_key(), fingerprint)
        self.log.info(
            "slash commands registered", guild=self.settings.guild_id, count=len(synced)
        )
        return len(synced)

    async def register_commands_if_changed(self) -> bool:
        """Register only when the commands differ from the last registration (Discord
        rate-limits it)."""
        if await get_meta(self.store, self._tree_hash_key()) == self.command_tree_hash():
            return False
        await self.register_commands()
        return True


@contextlib.asynccontextmanager
async def connected(bot: Threadbridge, token: str, *, timeout: float) -> AsyncIterator[None]:
    """`bot` logged in and ready (on_ready fired) until the block ends, then closed: for the
    demo and the tests, which run the bot beside other work. TimeoutError if it is not ready
    within `timeout`; why it stopped, if it stopped before."""
    try:
        await bot.login(token)
    except BaseException:
        await bot.close()
        raise
    task = asyncio.create_task(bot.connect(), name="threadbridge")
    ready = asyncio.create_task(bot.wait_until_ready())
    try:
        done, _ = await asyncio.wait(
            {ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            if task.done():
                task.result()  # surfaces why the bot stopped
            raise TimeoutError("threadbridge never became ready")
        yield
    finally:
        ready.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
